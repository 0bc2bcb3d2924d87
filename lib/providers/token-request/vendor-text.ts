import { redactCode, redactText } from '../../shared/redact.js';
import { readPath } from '../endpoint.js';

const MAX_MESSAGE_LENGTH = 200;

/** A vendor's error message, one line, scrubbed of `secrets` and cut to a readable length. */
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

/** A vendor's error code: as received (to decide what it means), as reported, and as said in a message. */
export interface VendorCode {
  /** Exactly what the body holds, compared as is (RFC 6749 §5.2): never shown. */
  received: string | undefined;
  /** `received` untouched, or `undefined` when it shows a secret or is not code-like (see `redactCode`). */
  reported: string | undefined;
  /** What a message may say of it: `reported`, else the received text scrubbed. */
  said: string | undefined;
}

/** The first of `paths` that holds a code in `json`. */
export function firstCode(
  json: unknown,
  paths: readonly (readonly string[])[],
  secrets: readonly string[],
): VendorCode {
  for (const path of paths) {
    const value = readPath(json, path);
    if ((typeof value !== 'string' && typeof value !== 'number') || value === '') continue;
    const reported = redactCode(value, secrets);
    return { received: String(value), reported, said: reported ?? cleanText(value, secrets) };
  }
  return { received: undefined, reported: undefined, said: undefined };
}
