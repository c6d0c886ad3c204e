import { createHash } from 'node:crypto';

import { escapeGlob } from './glob';

/** Families whose entries carry a group tag (see CacheKeys.groupTag). */
export type TaggedGroup = 'users' | 'signals' | 'market';

/** `signals:{…}:…` entries that are not an instrument's: records by id, pages and counts of paged lists. */
const UNGROUPED_SIGNALS: ReadonlySet<string> = new Set(['id', 'pages', 'counts']);
const NO_TAGS: readonly string[] = [];
const GROUP_TAG_START = 'keys:';

/** Whether a tag is a group tag (CacheKeys.groupTag): one that data entries carry, never a response. */
export function isGroupTag(tag: string): boolean {
  return tag.startsWith(GROUP_TAG_START);
}

/** Kinds of cached data, by the layout below (see CacheKeys.familyOf). */
export const KEY_FAMILIES = ['users', 'sessions', 'signals', 'market', 'responses', 'other'] as const;
export type KeyFamily = (typeof KEY_FAMILIES)[number];

/**
 * Every cache key and invalidation pattern is spelled here, in the seed's layout:
 *
 *   {prefix}:users:{id}                  user profile (and `users:{id}:{facet}` for derived data)
 *   {prefix}:users:session:{sessionId}   session
 *   {prefix}:signals:{identifier}        signals (`signals:{symbol}:…` for one instrument's lists;
 *                                        `signals:pages:…` and `signals:counts:…` for paged lists,
 *                                        evicted by list tag, not by the instrument's pattern)
 *   {prefix}:market:{symbol}:{timeframe} market data (`price` stands for the live quote),
 *                                        and its last-known copy under `…:last`
 *   {prefix}:api:{endpoint}:{paramsHash} API and query responses
 *
 * Patterns escape what they embed, so input can never widen them; what one write changes goes by
 * group tag (groupTag), not by pattern.
 */
export class CacheKeys {
  /** Where every key of this prefix starts. */
  private readonly keyStart: string;

  constructor(readonly prefix: string) {
    this.keyStart = `${prefix}:`;
  }

  user(userId: number | string, facet?: string): string {
    return this.key('users', String(userId), ...(facet === undefined ? [] : [facet]));
  }

  session(sessionId: string): string {
    return this.key('users', 'session', sessionId);
  }

  signals(...identifier: (string | number)[]): string {
    return this.key('signals', ...identifier.map(String));
  }

  /** One page of a paged signal list, by its list's name and the page asked for. */
  signalPage(list: string, page: unknown): string {
    return this.key('signals', 'pages', paramsHash({ list, page }));
  }

  /** The size of a paged signal list, by its name. */
  signalCount(list: string): string {
    return this.key('signals', 'counts', paramsHash(list));
  }

  market(symbol: string, timeframe: string): string {
    return this.key('market', symbol, timeframe);
  }

  /**
   * The last value fetched for a market entry (`market:{symbol}:{timeframe}:last`), served only
   * when the upstream fails. Under the instrument's pattern on purpose: invalidating a market
   * also withdraws its last-known copies.
   */
  marketLastKnown(symbol: string, timeframe: string): string {
    return `${this.market(symbol, timeframe)}:last`;
  }

  api(endpoint: string, params: unknown): string {
    return this.key('api', endpoint, paramsHash(params));
  }

  /** The set of keys written with a tag (kept by the Redis tier, expiring with its members). */
  tagSet(tag: string): string {
    return this.key('tags', tag);
  }

  /** A whole GraphQL response, in the seed's `api:{endpoint}:{params_hash}` layout. */
  graphqlResponse(paramsHashValue: string): string {
    return this.key('api', 'graphql', paramsHashValue);
  }

  /** Every cached GraphQL response. */
  graphqlResponsesPattern(): string {
    return `${this.key('api', 'graphql')}:*`;
  }

  /** The pub/sub channel on which instances announce invalidations. */
  busChannel(): string {
    return this.key('bus', 'invalidations');
  }

  /** The live instances listening on the bus; beside the namespace, like leases, so that "all" keeps it. */
  busMembers(): string {
    return `${this.prefix}~bus:members`;
  }

  /**
   * Live data (subscriptions) beside the namespace, like leases: an invalidation must never drop
   * the event log clients resume from. `channel`: what every instance hears (ticks, signal
   * events); `events`: the Redis Stream of signal events; `wanted`: instruments someone subscribes
   * to, across the fleet (a sorted set scored by expiry).
   */
  live(part: 'channel' | 'events' | 'wanted'): string {
    return `${this.prefix}~live:${part}`;
  }

  /**
   * A lease (cross-instance lock) on a job, such as warming. Leases live beside the namespace, not
   * in it (`{prefix}~locks:…`; `~` cannot occur in a prefix), so that no invalidation, not even
   * "all", drops a lease another instance holds.
   */
  lease(job: string): string {
    return `${this.prefix}~locks:${job}`;
  }

  /**
   * A document registered by a client (automatic persisted queries), by its SHA-256. Beside the
   * namespace like leases: a document never goes stale, so no invalidation, not even "all", should
   * make every client register it again.
   */
  persistedDocument(id: string): string {
    return `${this.prefix}~apq:${id}`;
  }

  /**
   * A viewer's budget of query cost (`user:42`, `admin`, `ip:203.0.113.7`): one key per viewer, so
   * one slot on a Cluster. Beside the namespace like leases: invalidating "all" clears caches, it
   * must not hand every client a fresh budget.
   */
  rateBudget(viewer: string): string {
    return `${this.prefix}~ratelimit:${viewer}`;
  }

  /** The lease of a fleet-wide load of `key` (see FleetFlight); hashed, since `key` may be long. */
  flightLease(key: string): string {
    return this.lease(`flight:${createHash('sha1').update(key).digest('base64url')}`);
  }

  /** A stable hash of parameters, for key parts that stand for a whole filter. */
  hash(params: unknown): string {
    return paramsHash(params);
  }

  /**
   * The tag every entry under `{family}:{identifier}:…` is written with (see groupTagsOf): what
   * a write invalidates by, in place of the pattern that SCANs the whole keyspace (every key of
   * every prefix on the server) on each write. `keys:` keeps them apart from CacheTags' type names.
   */
  groupTag(family: TaggedGroup, identifier: number | string): string {
    return `${GROUP_TAG_START}${family}:${identifier}`;
  }

  /**
   * The group tag of a key of this prefix: a user's facets (`users:{id}:…`, not the profile nor
   * sessions), one instrument's signal lists and statistics (`signals:{symbol}:…`, `signals:all:…`;
   * not the records, pages and counts, which go by key and by CacheTags), one instrument's market
   * data (`market:{symbol}:…`). None for anything else.
   */
  groupTagsOf(key: string): readonly string[] {
    if (!key.startsWith(this.keyStart)) return NO_TAGS;
    const [family, identifier, rest] = key.slice(this.keyStart.length).split(':', 3);
    if (rest === undefined || identifier === undefined) return NO_TAGS;
    if ((family === 'users' && identifier !== 'session') || (family === 'signals' && !UNGROUPED_SIGNALS.has(identifier)) || family === 'market') return [this.groupTag(family, identifier)];
    return NO_TAGS;
  }

  /** Every signal entry (one instrument's go by group tag). */
  signalsPattern(): string {
    return `${this.key('signals')}:*`;
  }

  /** All market data (one instrument's goes by group tag). */
  marketPattern(): string {
    return `${this.key('market')}:*`;
  }

  /** Everything this product wrote, and nothing else. */
  allPattern(): string {
    return `${escapeGlob(this.prefix)}:*`;
  }

  /**
   * What a key holds, for hit rates by kind of data: `users` is a profile and what is derived from
   * it (`users:{id}:statistics`, …), `responses` whole GraphQL responses; `other` anything else
   * (registered documents, keys of another prefix).
   */
  familyOf(key: string): KeyFamily {
    if (!key.startsWith(`${this.prefix}:`)) return 'other';
    const [kind, second] = key.slice(this.prefix.length + 1).split(':', 2);
    if (kind === 'users') return second === 'session' ? 'sessions' : 'users';
    if (kind === 'signals' || kind === 'market') return kind;
    return kind === 'api' && second === 'graphql' ? 'responses' : 'other';
  }

  /** Confines an operator's glob (relative to the prefix) to this product's keys. */
  scoped(pattern: string): string {
    return `${escapeGlob(this.prefix)}:${pattern}`;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }
}

/** A stable hash of parameters: key order does not matter, `undefined` members are left out. */
export function paramsHash(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 32);
}

/** JSON with object keys sorted at every level and `undefined` members left out: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}
