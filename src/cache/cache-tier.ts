/** One entry to write; every entry expires. */
export interface CacheEntry {
  readonly key: string;
  readonly value: string;
  readonly ttlSeconds: number;
  /** Names under which the entry can be evicted as a group (e.g. `User:42`), see deleteTagged. */
  readonly tags?: readonly string[];
}

export type TierName = 'redis' | 'memory';

/**
 * A store of encoded values. Two implementations (Redis, in-process LRU); metrics and the
 * choice between them are added by wrapping, not by flags.
 */
export interface CacheTier {
  readonly name: TierName;
  get(key: string): Promise<string | undefined>;
  /** One round trip; the result is in the order of `keys`. */
  mget(keys: readonly string[]): Promise<(string | undefined)[]>;
  set(entry: CacheEntry): Promise<void>;
  /** One round trip. */
  mset(entries: readonly CacheEntry[]): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Seconds to live, `undefined` when the key is absent. */
  ttl(key: string): Promise<number | undefined>;
  /** Returns how many of `keys` existed. */
  delete(keys: readonly string[]): Promise<number>;
  /** Deletes the keys matching a Redis glob; returns how many. Never KEYS, never FLUSH*. */
  deletePattern(pattern: string): Promise<number>;
  /** Deletes every entry written with any of `tags`; returns how many. */
  deleteTagged(tags: readonly string[]): Promise<number>;
}

/** A tier that cannot answer now (unreachable, timed out): the caller falls back, it does not fail. */
export class TierUnavailableError extends Error {
  constructor(
    readonly tier: TierName,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${tier}: ${message}`, options);
    this.name = 'TierUnavailableError';
  }
}
