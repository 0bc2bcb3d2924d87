import { isNewerToken, type StoredToken, type TokenStore } from '../../stores/store.js';

/** What a token manager lends {@link followStore}. */
export interface StoreFollower {
  readonly store: TokenStore;
  /**
   * The provider's store key, asked for when first needed (a change told of), never when the
   * follower starts: a DPoP provider's key needs its key pair, and with discovery the server's
   * metadata, and attaching a handle makes no request.
   */
  readonly key: () => Promise<string>;
  /** The entry for `key`, validated (an invalid one is reported and treated as missing). */
  read(key: string): Promise<StoredToken | undefined>;
  /** Called with what the entry holds after someone else changed it. */
  changed(found: StoredToken | undefined): Promise<void>;
}

/**
 * Follows a store that tells of changes (`TokenStore.subscribe`): each change to the provider's
 * entry is re-read, one at a time, a burst of changes becoming one more read. Returns the function
 * that stops following; a store without `subscribe` is not followed.
 */
export function followStore(follower: StoreFollower): () => void {
  const { store } = follower;
  if (store.subscribe === undefined) return () => undefined;
  let reading: Promise<void> | undefined;
  const flags = { again: false, stopped: false };
  /** Another change came while the entry was being read: read it once more. */
  const readAgain = (): boolean => flags.again && !flags.stopped;
  const readChanged = async (): Promise<void> => {
    const key = await follower.key();
    do {
      flags.again = false;
      await follower.changed(await follower.read(key));
    } while (readAgain());
  };
  const onChange = (): void => {
    if (flags.stopped) return;
    if (reading !== undefined) {
      flags.again = true;
      return;
    }
    reading = readChanged()
      .catch(() => undefined)
      .finally(() => (reading = undefined));
  };
  const unsubscribe = store.subscribe((changedKey) => {
    void follower.key().then(
      (key) => {
        if (changedKey === key) onChange();
      },
      () => undefined,
    );
  });
  return () => {
    flags.stopped = true;
    unsubscribe();
  };
}

/**
 * What a token manager does once someone else changed its entry: `drop` its token (the entry is
 * gone: another tab saw it rejected, or invalidated it; it is not sent again), `adopt` the entry's
 * token (a newer one, not the rejected one, not expired), or nothing.
 */
export function reactionTo(
  found: StoredToken | undefined,
  held: { current: StoredToken | undefined; rejectedToken: string | undefined },
  hasExpired: (token: StoredToken) => boolean,
): 'drop' | 'adopt' | 'ignore' {
  const { current } = held;
  if (found === undefined) return current === undefined ? 'ignore' : 'drop';
  if (found.accessToken === held.rejectedToken || hasExpired(found)) return 'ignore';
  if (current !== undefined && (found.accessToken === current.accessToken || !isNewerToken(found, current))) {
    return 'ignore';
  }
  return 'adopt';
}
