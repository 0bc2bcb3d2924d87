import { unrefTimer, withDeadline } from '../../shared/async.js';
import { bindingFields, probeKey, tabLockName } from './entry.js';
import type { BrowserChannel, BrowserLockManager, BrowserStorage } from './types.js';

// Which tab a `sessionStorage` store belongs to. sessionStorage is one tab's, but a tab opened with
// `window.open` or the browser's "Duplicate tab" starts with a copy of it, refresh token included:
// if both tabs used it, the second use would end the session (reuse detection). So:
//
// - The tab keeps a random id in its storage (`{prefix}tab`). It names the tab's Web Lock, and
//   every entry records it.
// - The live page that uses an id claims it: it holds the Web Lock `{prefix}tab:{id}` for its life
//   (the browser frees it when the page goes).
// - A page that finds the id it read already claimed asks the holder, over a BroadcastChannel,
//   whether they share a storage (a same-origin frame of the same tab does): it writes a probe into
//   its storage, and the holder answers whether its storage has that probe. Sharing: the id is
//   theirs too. Not sharing: this page is a copy. It takes a new id, and the entries it copied,
//   recorded for the old id, are refused from then on. No answer (and a second claim failing
//   too): it is taken for a copy as well, but its new id is kept in memory only, so that a page
//   which did share the storage (and was too busy to answer) keeps its id and entries.
// - Without Web Locks, nothing tells that a holder is alive: a page that read an id asks, and with
//   no answer within `checkMs` takes the id for its own.

const ID = /^[0-9a-z]{16,64}$/;
/** A probe left behind by a page that went away while asking is swept after this long. */
const PROBE_LIFE_MS = 60_000;
/** The check never takes longer than this (or four times `checkMs`), whatever the browser's APIs do. */
const CHECK_DEADLINE_MS = 5_000;

/** A tab's id, and the one its page started with when that was a copy of another live tab's. */
export interface TabIdentity {
  readonly id: string;
  readonly copiedFrom: string | undefined;
}

/** What {@link resolveTabIdentity} works with. */
export interface TabIdentitySettings {
  storage: BrowserStorage;
  prefix: string;
  locks: BrowserLockManager | undefined;
  channel: ((name: string) => BrowserChannel) | undefined;
  checkMs: number;
  now: () => number;
}

type Verdict = 'own' | 'shared' | 'copy' | 'unsure';

/** 32 random characters of [0-9a-z]. */
export function randomId(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues === undefined) bytes.forEach((_, index) => (bytes[index] = Math.random() * 256));
  else crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(36).padStart(2, '0')).join('');
}

function readId(storage: BrowserStorage, idKey: string): string | undefined {
  const value = storage.getItem(idKey);
  return value !== null && ID.test(value) ? value : undefined;
}

function writeNewId(storage: BrowserStorage, idKey: string): string {
  const id = randomId();
  storage.setItem(idKey, id);
  return id;
}

/** Holds the Web Lock `name` for the page's life if it is free: true when this page got it. */
function claim(locks: BrowserLockManager, name: string): Promise<boolean> {
  return new Promise((resolve) => {
    locks
      .request(name, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        return lock === null ? Promise.resolve() : new Promise<never>(() => undefined);
      })
      .catch(() => resolve(false));
  });
}

interface Ask {
  kind: 'tokenflight-tab-ask';
  id: string;
  nonce: string;
}
interface Answer {
  kind: 'tokenflight-tab-answer';
  nonce: string;
  same: boolean;
}

const isAsk = (data: unknown): data is Ask =>
  typeof data === 'object' &&
  data !== null &&
  (data as Partial<Ask>).kind === 'tokenflight-tab-ask' &&
  typeof (data as Partial<Ask>).id === 'string' &&
  typeof (data as Partial<Ask>).nonce === 'string';

const isAnswerTo = (data: unknown, nonce: string): data is Answer =>
  typeof data === 'object' &&
  data !== null &&
  (data as Partial<Answer>).kind === 'tokenflight-tab-answer' &&
  (data as Partial<Answer>).nonce === nonce &&
  typeof (data as Partial<Answer>).same === 'boolean';

/** Asks the live pages holding `id` whether they share this storage: 'same', 'other', or no answer in `checkMs`. */
function ask(settings: TabIdentitySettings, open: (name: string) => BrowserChannel, id: string) {
  const { storage, prefix, checkMs } = settings;
  const nonce = randomId();
  const probe = probeKey(prefix, nonce);
  const until = settings.now() + PROBE_LIFE_MS;
  storage.setItem(probe, JSON.stringify({ ...bindingFields({ key: nonce, tab: undefined }), until }));
  const channel = open(`${prefix}tabs`);
  return new Promise<'same' | 'other' | undefined>((resolve) => {
    const finish = (answer: 'same' | 'other' | undefined): void => {
      clearTimeout(timer);
      channel.removeEventListener('message', onMessage);
      channel.close();
      storage.removeItem(probe);
      resolve(answer);
    };
    const onMessage = (event: { readonly data: unknown }): void => {
      if (isAnswerTo(event.data, nonce)) finish(event.data.same ? 'same' : 'other');
    };
    const timer = unrefTimer(() => finish(undefined), checkMs);
    try {
      channel.addEventListener('message', onMessage);
      channel.postMessage({ kind: 'tokenflight-tab-ask', id, nonce } satisfies Ask);
    } catch {
      // A channel that cannot send gets no answer.
      finish(undefined);
    }
  });
}

/**
 * Answers other pages' questions about the id this page uses, once `answering` says it may (it
 * holds the id's claim, or shares the storage of a page that does). Open for the page's life.
 */
function startAnswering(
  settings: TabIdentitySettings,
  open: (name: string) => BrowserChannel,
): (id: string, mayAnswer: Promise<boolean>) => void {
  const { storage, prefix } = settings;
  let current: { id: string; mayAnswer: Promise<boolean> } | undefined;
  const channel = open(`${prefix}tabs`);
  // Open for the page's life; where channels keep a process alive (Node), this one does not.
  (channel as { unref?: () => void }).unref?.();
  channel.addEventListener('message', (event) => {
    const { data } = event;
    const answering = current;
    if (!isAsk(data) || answering === undefined || data.id !== answering.id) return;
    void answering.mayAnswer.then((may) => {
      if (!may) return;
      try {
        const same = storage.getItem(probeKey(prefix, data.nonce)) !== null;
        channel.postMessage({ kind: 'tokenflight-tab-answer', nonce: data.nonce, same } satisfies Answer);
      } catch {
        // No answer, then: the asking page decides without it.
      }
    });
  });
  return (id, mayAnswer) => {
    current = { id, mayAnswer };
  };
}

/** Whether this page owns `id`, shares it with a page of the same storage, or holds a copy of another tab's. */
async function verdictFor(
  settings: TabIdentitySettings,
  found: { id: string; isNew: boolean },
  answerAs: ((id: string, mayAnswer: Promise<boolean>) => void) | undefined,
): Promise<Verdict> {
  const { locks, channel, prefix } = settings;
  const { id } = found;
  if (locks === undefined) {
    // An id this page has just made up is no copy: nobody else can know it yet.
    const answer = channel === undefined || found.isNew ? undefined : await ask(settings, channel, id);
    return answer === 'other' ? 'copy' : answer === 'same' ? 'shared' : 'own';
  }
  const claimed = claim(locks, tabLockName(prefix, id));
  answerAs?.(id, claimed);
  if (await claimed) return 'own';
  if (channel === undefined) return 'unsure';
  const answer = await ask(settings, channel, id);
  if (answer !== undefined) return answer === 'same' ? 'shared' : 'copy';
  // No answer: the holder may have been a page on its way out (a reload); else it does not answer.
  const again = claim(locks, tabLockName(prefix, id));
  answerAs?.(id, again);
  return (await again) ? 'own' : 'unsure';
}

/**
 * Works out this page's tab id (see the rules above): resolves once the page owns it, or shares
 * it with a page of the same storage; a page that holds a copy of a live tab's storage gets a new
 * id, and `copiedFrom` says which it copied. Never rejects, and never takes longer than its
 * deadline: a storage that throws, or a lock manager or channel that never answers, leaves the
 * page an id of its own in memory, and whatever the storage held counts as copied (refused).
 */
export async function resolveTabIdentity(settings: TabIdentitySettings): Promise<TabIdentity> {
  const deadlineMs = Math.max(CHECK_DEADLINE_MS, 4 * settings.checkMs);
  try {
    return await withDeadline(workOutIdentity(settings), deadlineMs, () => new Error('the tab check took too long'));
  } catch {
    let stored: string | undefined;
    try {
      stored = readId(settings.storage, `${settings.prefix}tab`);
    } catch {
      // A storage that throws on reads holds nothing this page could use.
    }
    return { id: randomId(), copiedFrom: stored };
  }
}

async function workOutIdentity(settings: TabIdentitySettings): Promise<TabIdentity> {
  const { storage, prefix, channel } = settings;
  const idKey = `${prefix}tab`;
  const answerAs = channel === undefined ? undefined : startAnswering(settings, channel);
  let copiedFrom: string | undefined;
  // A page that found a copy takes a new id and checks again; other pages of the same copy adopt it.
  for (let round = 0; round < 3; round++) {
    const stored = readId(storage, idKey);
    const id = stored ?? writeNewId(storage, idKey);
    const verdict = await verdictFor(settings, { id, isNew: stored === undefined }, answerAs);
    if (verdict === 'own' || verdict === 'shared') {
      answerAs?.(id, Promise.resolve(true));
      return { id, copiedFrom };
    }
    copiedFrom ??= id;
    // A live page holds the id and did not say whether it shares this storage (a frozen tab, or
    // no BroadcastChannel): this page keeps an id of its own, in memory only, and leaves the
    // storage's id alone in case that page shares it after all.
    if (verdict === 'unsure') break;
    if (readId(storage, idKey) === id) writeNewId(storage, idKey);
  }
  return { id: randomId(), copiedFrom };
}
