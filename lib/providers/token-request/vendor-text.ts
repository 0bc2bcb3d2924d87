import { redactText } from '../../redact.js';
import { readPath } from '../endpoint.js';

const MAX_MESSAGE_LENGTH = 200;

/** A vendor's error code or message, one line, scrubbed of `secrets` and cut to a readable length. */
export function cleanText(value: unknown, secrets: readonly string[]): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  // Scrubbed before and after control characters become spaces: a secret may hold either.
  const oneLine = redactText(String(value), secrets).replace(/\p{Cc}+/gu, ' ');
  const text = redactText(oneLine, secrets).trim();
  if (text === '') return undefined;
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}

/** The first of `paths` that holds a text in `json`, cleaned. */
export function firstText(
  json: unknown,
  paths: readonly (readonly string[])[],
  secrets: readonly string[],
): string | undefined {
  for (const path of paths) {
    const text = cleanText(readPath(json, path), secrets);
    if (text !== undefined) return text;
  }
  return undefined;
}
