import type { CacheKeys } from './cache-keys';
import type { CacheService } from './cache.service';

/**
 * The seed's invalidation vocabulary. Each method returns how many entries it removed; patterns
 * come from CacheKeys, which escapes the identifiers it embeds and confines them to the prefix.
 */
export class CacheInvalidator {
  constructor(
    private readonly cache: CacheService,
    private readonly keys: CacheKeys,
  ) {}

  /** The user's profile and everything derived from it (`users:{id}:*`), but not users 10, 11… of user 1. */
  async invalidateUserCache(userId: number | string): Promise<number> {
    return (await this.cache.delete(this.keys.user(userId))) + (await this.cache.deletePattern(this.keys.userFacetsPattern(userId)));
  }

  /** What is derived from a user (statistics, signal lists), leaving the profile cached. */
  invalidateUserFacets(userId: number | string): Promise<number> {
    return this.cache.deletePattern(this.keys.userFacetsPattern(userId));
  }

  /** One instrument's signal entries, or every signal entry. */
  invalidateSignalCache(symbol?: string): Promise<number> {
    return this.cache.deletePattern(this.keys.signalsPattern(symbol));
  }

  /** One instrument's market data, or all market data. */
  invalidateMarketCache(symbol?: string): Promise<number> {
    return this.cache.deletePattern(this.keys.marketPattern(symbol));
  }

  /** Everything under the prefix, and nothing else: SCAN + UNLINK, never FLUSHDB. */
  invalidateAllCache(): Promise<number> {
    return this.cache.deletePattern(this.keys.allPattern());
  }

  /** An operator's glob, relative to the prefix (`signals:EUR_USD:*`); it cannot reach outside it. */
  invalidatePattern(pattern: string): Promise<number> {
    return this.cache.deletePattern(this.keys.scoped(pattern));
  }
}
