/**
 * Whether `text` shows `secret`, by the rule lib/shared/redact.ts documents, written again independently
 * (with a regular expression) for the tests to check it against: a secret of 8 characters or more
 * shows wherever it occurs; a shorter one only where it does not cut a word (letters, digits, `_`)
 * in two.
 */
export function shown(text: string, secret: string): boolean {
  if (secret === '') return false;
  if (secret.length >= 8) return text.includes(secret);
  const word = /[\p{L}\p{N}_]/u;
  const escaped = secret.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const before = word.test(secret.charAt(0)) ? '(?<![\\p{L}\\p{N}_])' : '';
  const after = word.test(secret.charAt(secret.length - 1)) ? '(?![\\p{L}\\p{N}_])' : '';
  return new RegExp(`${before}${escaped}${after}`, 'u').test(text);
}
