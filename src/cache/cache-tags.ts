/**
 * Tags name what a cached entry shows: a whole GraphQL response (tagged per resolved field, see
 * graphql/response-cache/entity-tagger.ts) or a data entry whose key an invalidation cannot derive (a signal record
 * reached by its instrument, a session lookup reached by its user). Invalidating a tag evicts
 * every entry written with it. A response's specific tag (`User:42`) always comes with its
 * umbrella (`User`), which the "everything of a kind" invalidations evict; a data entry carries
 * an umbrella only where a scope needs it (see `withUmbrella`).
 */
export const CacheTags = {
  /** A user's profile, or its absence (`user(id: 42)` answered null). */
  user: (id: number | string) => `User:${id}`,
  /** A user's signal lists and statistics: selected by the user, so they span every instrument. */
  userSignals: (id: number | string) => `UserSignals:${id}`,
  /** The cached session lookups of a user (data entries only): revoking or deactivating evicts them. */
  sessions: (userId: number | string) => `Sessions:${userId}`,
  /** One signal, or its absence (`signal(id: 7)` answered null). */
  signal: (id: number | string) => `Signal:${id}`,
  /** Lists and statistics selected by instrument (a new member of the instrument evicts them). */
  signals: (symbol: string) => `Signals:${symbol}`,
  /** Lists across instruments, and anything else a new signal of any instrument may change. */
  allSignalLists: () => 'Signals:all',
  /** Any one signal of the instrument, wherever it is shown (its record, a response showing it). */
  signalOf: (symbol: string) => `SignalOf:${symbol}`,
  /**
   * One paged list of signals and its count, by the list's canonical name (see signal-list.ts): a
   * write evicts the lists the signal enters or leaves, by name, and no other.
   */
  signalList: (list: string) => `SignalList:${list}`,
  /**
   * Every paged list selected by an author, whatever its other filters: the user scope evicts
   * them, as it evicts the author's other lists. A write goes by the lists' names instead.
   */
  authorSignalLists: (userId: number | string) => `SignalListsBy:${userId}`,
  market: (symbol: string) => `Market:${symbol}`,
  umbrella: (kind: TagKind) => kind,
  /** A specific tag and its umbrella, for data entries that an "all of a kind" scope must reach. */
  withUmbrella: (tag: string): string[] => (tag.includes(':') ? [tag, tag.slice(0, tag.indexOf(':'))] : [tag]),
} as const;

export type TagKind = 'User' | 'UserSignals' | 'Sessions' | 'Signal' | 'Signals' | 'SignalOf' | 'SignalList' | 'Market';

/**
 * The tags one field shows, from its arguments, its parent object and its result. Lookups by id
 * tag the ids asked for, so that a "not found" is evicted when the row appears; lists and
 * aggregates tag what their arguments selected, since a new member must evict a list that did not
 * contain it yet.
 */
export type FieldTags = (args: Record<string, unknown>, source: unknown, result: unknown) => readonly string[];

/** The tags an object of a type shows, from the object itself (`User` → `User:{id}`). */
export type EntityTags = (entity: Record<string, unknown>) => readonly string[];

/**
 * What one feature's part of the schema shows, declared by the feature beside its resolvers:
 * fields by schema coordinate (`Query.signals`), objects by type name (`Signal`). The response
 * cache applies the declarations of every feature (see entityTagger); it knows none itself.
 */
export interface ShownTags {
  readonly fields?: Readonly<Record<string, FieldTags>>;
  readonly types?: Readonly<Record<string, EntityTags>>;
}

/** Integer ids in a value (an id, a list of ids); anything else gives none. */
export function idsOf(value: unknown): number[] {
  return (Array.isArray(value) ? value : [value]).filter((item): item is number => Number.isInteger(item));
}

/** Strings in a value (a symbol, a list of symbols); anything else gives none. */
export function stringsOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');
}

/** A member of a parent object, or `undefined` when the parent is not an object. */
export function memberOf(source: unknown, name: string): unknown {
  return source !== null && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined;
}
