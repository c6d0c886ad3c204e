/**
 * Tags name what a cached response contains, so that invalidating an entity evicts every response
 * that shows it. A specific tag (`User:42`) always comes with its umbrella (`User`), which the
 * "everything of a kind" invalidations evict.
 */
export const CacheTags = {
  user: (id: number | string) => `User:${id}`,
  /** A user's signal lists and statistics. */
  userSignals: (id: number | string) => `UserSignals:${id}`,
  signal: (id: number | string) => `Signal:${id}`,
  /** Lists and statistics of one instrument's signals; `all` for lists across instruments. */
  signals: (symbol: string) => `Signals:${symbol}`,
  allSignalLists: () => 'Signals:all',
  market: (symbol: string) => `Market:${symbol}`,
  umbrella: (kind: 'User' | 'UserSignals' | 'Signal' | 'Signals' | 'Market') => kind,
} as const;
