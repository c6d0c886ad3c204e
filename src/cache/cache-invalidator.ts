import type { CacheKeys } from './cache-keys';
import { CacheTags } from './cache-tags';
import type { CacheService } from './cache.service';

/**
 * The seed's invalidation vocabulary. Each method returns how many entries it removed; patterns
 * come from CacheKeys, which escapes the identifiers it embeds and confines them to the prefix.
 * Each also evicts the cached GraphQL responses that show what it invalidates (by tag).
 */
export class CacheInvalidator {
  constructor(
    private readonly cache: CacheService,
    private readonly keys: CacheKeys,
  ) {}

  /** The user's profile and everything derived from it (`users:{id}:*`), but not users 10, 11… of user 1. */
  async invalidateUserCache(userId: number | string): Promise<number> {
    return (
      (await this.cache.delete(this.keys.user(userId))) +
      (await this.cache.deletePattern(this.keys.userFacetsPattern(userId))) +
      (await this.cache.deleteTagged([CacheTags.user(userId), CacheTags.userSignals(userId)]))
    );
  }

  /** What is derived from a user (statistics, signal lists), leaving the profile cached. */
  async invalidateUserFacets(userId: number | string): Promise<number> {
    return (await this.cache.deletePattern(this.keys.userFacetsPattern(userId))) + (await this.cache.deleteTagged([CacheTags.userSignals(userId)]));
  }

  /** One signal: its entry and the responses that show it. */
  async invalidateSignal(signalId: number): Promise<number> {
    return (await this.cache.delete(this.keys.signals('id', signalId))) + (await this.cache.deleteTagged([CacheTags.signal(signalId)]));
  }

  /** One instrument's signal entries (and lists across instruments), or every signal entry. */
  async invalidateSignalCache(symbol?: string): Promise<number> {
    const tags = symbol === undefined ? [CacheTags.umbrella('Signals'), CacheTags.umbrella('Signal'), CacheTags.umbrella('UserSignals')] : [CacheTags.signals(symbol), CacheTags.allSignalLists()];
    const lists = symbol === undefined ? 0 : await this.cache.deletePattern(this.keys.signalsPattern('all'));
    return (await this.cache.deletePattern(this.keys.signalsPattern(symbol))) + lists + (await this.cache.deleteTagged(tags));
  }

  /** One instrument's market data, or all market data. */
  async invalidateMarketCache(symbol?: string): Promise<number> {
    const tags = symbol === undefined ? [CacheTags.umbrella('Market')] : [CacheTags.market(symbol)];
    return (await this.cache.deletePattern(this.keys.marketPattern(symbol))) + (await this.cache.deleteTagged(tags));
  }

  /** Everything under the prefix, and nothing else: SCAN + UNLINK, never FLUSHDB. */
  invalidateAllCache(): Promise<number> {
    return this.cache.deletePattern(this.keys.allPattern());
  }

  /**
   * An operator's glob, relative to the prefix (`signals:EUR_USD:*`); it cannot reach outside it.
   * Which responses showed the matched data is unknowable from a pattern, so all cached
   * responses go too: a cold response cache is safe, a stale one is not.
   */
  async invalidatePattern(pattern: string): Promise<number> {
    return (await this.cache.deletePattern(this.keys.scoped(pattern))) + (await this.cache.deletePattern(this.keys.graphqlResponsesPattern()));
  }
}
