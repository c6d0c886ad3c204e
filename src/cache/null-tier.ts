import type { CacheTier, TierName } from './cache-tier';

/**
 * A tier that keeps nothing: every read misses, every write and delete is a no-op. Put in place
 * of both tiers when CACHE_ENABLED=false, so that every read goes to the database or the
 * market-data provider, through the same code and metrics as with a cache (all misses).
 */
export class NullTier implements CacheTier {
  constructor(readonly name: TierName) {}

  get(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.resolve(keys.map(() => undefined));
  }

  set(): Promise<void> {
    return Promise.resolve();
  }

  mset(): Promise<void> {
    return Promise.resolve();
  }

  exists(): Promise<boolean> {
    return Promise.resolve(false);
  }

  ttl(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  delete(): Promise<number> {
    return Promise.resolve(0);
  }

  deletePattern(): Promise<number> {
    return Promise.resolve(0);
  }

  deleteTagged(): Promise<number> {
    return Promise.resolve(0);
  }
}
