import type { CacheKeys } from './cache-keys';
import { CacheTags } from './cache-tags';
import type { CacheService } from './cache.service';

/**
 * The seed's invalidation vocabulary. Each method is one invalidation (its parts applied,
 * journaled and announced together) and returns how many entries it removed; keys, group tags and
 * patterns come from CacheKeys, whose patterns escape what they embed and stay within the prefix.
 * Each also evicts the cached GraphQL responses that show what it invalidates (by tag).
 *
 * What one user, instrument or signal changed goes by key and by tag, never by pattern: a pattern
 * is a SCAN of the whole Redis keyspace, so a write took time in proportion to everything the
 * server held (`npm run bench:writes`: 68-76 ms a write beside 100,000 keys of another
 * application, 6-9 ms by tag). Patterns are left to what has no narrower name: "all signals", "all
 * market data", everything, and an operator's glob.
 */
export class CacheInvalidator {
  constructor(
    private readonly cache: CacheService,
    private readonly keys: CacheKeys,
  ) {}

  /**
   * The user's profile and everything derived from it (`users:{id}:*`, their signal lists,
   * statistics and paged lists), but not users 10, 11… of user 1; and the user's cached session lookups, so that sessions deleted or a user deactivated
   * in the database are refused from the next request on.
   */
  invalidateUserCache(userId: number | string): Promise<number> {
    return this.cache.deleteAll([
      { kind: 'keys', keys: [this.keys.user(userId)] },
      { kind: 'tags', tags: [this.keys.groupTag('users', userId), CacheTags.user(userId), CacheTags.userSignals(userId), CacheTags.authorSignalLists(userId), CacheTags.sessions(userId)] },
    ]);
  }

  /** What is derived from a user (statistics, signal lists), leaving the profile cached. */
  invalidateUserFacets(userId: number | string): Promise<number> {
    return this.cache.deleteAll([{ kind: 'tags', tags: [this.keys.groupTag('users', userId), CacheTags.userSignals(userId)] }]);
  }

  /** One signal: its entry and the responses that show it. */
  invalidateSignal(signalId: number): Promise<number> {
    return this.cache.deleteAll([
      { kind: 'keys', keys: [this.keys.signals('id', signalId)] },
      { kind: 'tags', tags: [CacheTags.signal(signalId)] },
    ]);
  }

  /**
   * Everything that shows one instrument's signals, or any signal: the instrument's lists and
   * statistics (`signals:{symbol}:*`), lists across instruments (`signals:all:*`), each signal
   * record of the instrument (tagged, since `signals:id:{id}` does not name it), every user's
   * signal lists and statistics, which span all instruments (a row changed or added in the
   * database may belong to any user), and every paged list (which of them a row changed behind
   * the API's back belongs to is unknown). For an operator who does not know what changed; a
   * write that does know uses invalidateSignalWrite.
   */
  invalidateSignalCache(symbol?: string): Promise<number> {
    const spanning = [CacheTags.umbrella('UserSignals'), CacheTags.umbrella('SignalList')];
    const tags = symbol === undefined
      ? [CacheTags.umbrella('Signals'), CacheTags.umbrella('Signal'), CacheTags.umbrella('SignalOf'), ...spanning]
      : [CacheTags.signals(symbol), CacheTags.allSignalLists(), CacheTags.signalOf(symbol), ...spanning];
    if (symbol !== undefined) return this.cache.deleteAll([{ kind: 'tags', tags: [this.keys.groupTag('signals', symbol), this.keys.groupTag('signals', 'all'), ...tags] }]);
    return this.cache.deleteAll([
      { kind: 'pattern', pattern: this.keys.signalsPattern() },
      { kind: 'tags', tags },
    ]);
  }

  /**
   * What one created or changed signal shows in, and nothing else: its record and the responses
   * and pages that show it (or that answered "no such signal" for its id), its instrument's lists
   * and statistics, lists across instruments, its author's lists and statistics, and the paged
   * lists it entered or left (`lists`, by name: see listsChangedBy).
   */
  invalidateSignalWrite(signal: { readonly id: number; readonly symbol: string; readonly userId: number }, lists: readonly string[]): Promise<number> {
    return this.cache.deleteAll([
      { kind: 'keys', keys: [this.keys.signals('id', signal.id)] },
      {
        kind: 'tags',
        tags: [
          this.keys.groupTag('signals', signal.symbol),
          this.keys.groupTag('signals', 'all'),
          this.keys.groupTag('users', signal.userId),
          CacheTags.signal(signal.id),
          CacheTags.signals(signal.symbol),
          CacheTags.allSignalLists(),
          CacheTags.userSignals(signal.userId),
          ...lists.map(CacheTags.signalList),
        ],
      },
    ]);
  }

  /** One instrument's market data, or all market data. */
  invalidateMarketCache(symbol?: string): Promise<number> {
    if (symbol !== undefined) return this.cache.deleteAll([{ kind: 'tags', tags: [this.keys.groupTag('market', symbol), CacheTags.market(symbol)] }]);
    return this.cache.deleteAll([
      { kind: 'pattern', pattern: this.keys.marketPattern() },
      { kind: 'tags', tags: [CacheTags.umbrella('Market')] },
    ]);
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
  invalidatePattern(pattern: string): Promise<number> {
    return this.cache.deleteAll([
      { kind: 'pattern', pattern: this.keys.scoped(pattern) },
      { kind: 'pattern', pattern: this.keys.graphqlResponsesPattern() },
    ]);
  }
}
