/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar.This scalar is serialized to a string in ISO 8601 format and parsed from a string in ISO 8601 format. */
  DateTimeISO: { input: string; output: string; }
};

export type CacheControlScope =
  | 'PRIVATE'
  | 'PUBLIC';

/** Cache counters in the seed shape: rates in percent, times in milliseconds */
export type CacheCounters = {
  averageResponseTimeMs: Scalars['Float']['output'];
  errorRate: Scalars['Float']['output'];
  errors: Scalars['Int']['output'];
  hitRate: Scalars['Float']['output'];
  hits: Scalars['Int']['output'];
  misses: Scalars['Int']['output'];
  p50ResponseTimeMs: Scalars['Float']['output'];
  p99ResponseTimeMs: Scalars['Float']['output'];
  totalOperations: Scalars['Int']['output'];
};

export type CacheHealth = {
  connectionHealthy: Scalars['Boolean']['output'];
  fallbackEnabled: Scalars['Boolean']['output'];
  metrics: CacheCounters;
  /** Invalidations waiting for Redis to come back */
  pendingInvalidations: Scalars['Int']['output'];
  status: CacheStatus;
};

/** The cache as the gateway sees it, plus each tier on its own */
export type CacheMetrics = {
  averageResponseTimeMs: Scalars['Float']['output'];
  /** Callers that joined a load already running instead of starting one */
  coalesced: Scalars['Int']['output'];
  connectionHealthy: Scalars['Boolean']['output'];
  /** Values that could not be decoded: counted as misses and removed */
  corruptValues: Scalars['Int']['output'];
  errorRate: Scalars['Float']['output'];
  errors: Scalars['Int']['output'];
  fallbackEnabled: Scalars['Boolean']['output'];
  /** Misses answered by the value another gateway instance loaded and stored */
  fleetCoalesced: Scalars['Int']['output'];
  hitRate: Scalars['Float']['output'];
  hits: Scalars['Int']['output'];
  /** Loads from the data sources after a miss */
  loads: Scalars['Int']['output'];
  misses: Scalars['Int']['output'];
  p50ResponseTimeMs: Scalars['Float']['output'];
  p99ResponseTimeMs: Scalars['Float']['output'];
  /** null when the response cache is off */
  responseCache?: Maybe<ResponseCacheCounters>;
  tiers: Array<CacheTierMetrics>;
  totalOperations: Scalars['Int']['output'];
};

/** HEALTHY: Redis serves. DEGRADED: the in-memory tier serves while Redis recovers. UNHEALTHY: it has for over 30 s. */
export type CacheStatus =
  | 'DEGRADED'
  | 'HEALTHY'
  | 'UNHEALTHY';

export type CacheTierMetrics = {
  metrics: CacheCounters;
  /** redis or memory */
  tier: Scalars['String']['output'];
};

/** One OHLC bar (midpoint prices) */
export type Candle = {
  close: Scalars['Float']['output'];
  /** False for the bar that is still forming */
  complete: Scalars['Boolean']['output'];
  high: Scalars['Float']['output'];
  low: Scalars['Float']['output'];
  open: Scalars['Float']['output'];
  /** Start of the bar */
  time: Scalars['DateTimeISO']['output'];
  volume: Scalars['Int']['output'];
};

/** A bar of a live candle subscription: the forming bar after each tick (complete: false), then the bar once complete */
export type CandleUpdate = {
  candle: Candle;
  symbol: Scalars['String']['output'];
  timeframe: Timeframe;
};

/** A new ACTIVE signal. A session creates it for its own user; an admin names the author in userId. */
export type CreateSignalInput = {
  /** Between 0 and 1 */
  confidence: Scalars['Float']['input'];
  direction: SignalDirection;
  entryPrice: Scalars['Float']['input'];
  stopLoss?: InputMaybe<Scalars['Float']['input']>;
  symbol: Scalars['String']['input'];
  takeProfit?: InputMaybe<Scalars['Float']['input']>;
  timeframe: Timeframe;
  /** Author; admins only */
  userId?: InputMaybe<Scalars['Int']['input']>;
};

/** USER needs id; SIGNALS and MARKET take an optional symbol; PATTERN needs a pattern relative to the key prefix */
export type InvalidateCacheInput = {
  id?: InputMaybe<Scalars['Int']['input']>;
  /** For example signals:*:latest:*; letters, digits, _ : - * ? */
  pattern?: InputMaybe<Scalars['String']['input']>;
  scope: InvalidationScope;
  symbol?: InputMaybe<Scalars['String']['input']>;
};

export type InvalidationResult = {
  /** Entries removed now (an invalidation waiting for Redis is applied when it returns) */
  removed: Scalars['Int']['output'];
  scope: InvalidationScope;
};

export type InvalidationScope =
  | 'ALL'
  | 'MARKET'
  | 'PATTERN'
  | 'SIGNALS'
  | 'USER';

export type Mutation = {
  /** Creates an ACTIVE signal; needs a session (author) or the admin token (userId) */
  createSignal: Signal;
  /** Admin only */
  invalidateCache: InvalidationResult;
  /** Ends the session of the token sent: every later request with it is UNAUTHENTICATED. False for the admin token, which is no session. */
  logout: Scalars['Boolean']['output'];
  /** Admin only. Ends every session of the user (their tokens are UNAUTHENTICATED from the next request on, on every instance); returns how many there were. To deactivate a user, set users.is_active to false and invalidate the USER scope: sessions of inactive users are refused. */
  revokeUserSessions: Scalars['Int']['output'];
  /** Admin only. A deactivated user's session tokens are UNAUTHENTICATED from the next request on, on every instance; reactivating restores them. */
  setUserActive: User;
  /** Admin only. All strategies when none are named. */
  triggerCacheWarming: WarmingRunResult;
  /** Moves an ACTIVE signal to another status; author or admin */
  updateSignalStatus: Signal;
  /** Allowed for the user and for admins */
  updateUser: User;
};


export type MutationCreateSignalArgs = {
  input: CreateSignalInput;
};


export type MutationInvalidateCacheArgs = {
  input: InvalidateCacheInput;
};


export type MutationRevokeUserSessionsArgs = {
  userId: Scalars['Int']['input'];
};


export type MutationSetUserActiveArgs = {
  active: Scalars['Boolean']['input'];
  id: Scalars['Int']['input'];
};


export type MutationTriggerCacheWarmingArgs = {
  strategies?: InputMaybe<Array<WarmingStrategy>>;
};


export type MutationUpdateSignalStatusArgs = {
  id: Scalars['Int']['input'];
  status: SignalStatus;
};


export type MutationUpdateUserArgs = {
  id: Scalars['Int']['input'];
  input: UpdateUserInput;
};

/** Where a page sits in its list (Relay Cursor Connections) */
export type PageInfo = {
  /** The cursor of the last edge; null on an empty page */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether items follow the last edge (newest first: older ones) */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether items precede the first edge (newest first: newer ones) */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** The cursor of the first edge; null on an empty page */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** The current quote of an instrument */
export type Price = {
  ask: Scalars['Float']['output'];
  bid: Scalars['Float']['output'];
  /** Midpoint of bid and ask */
  mid: Scalars['Float']['output'];
  /** ask - bid */
  spread: Scalars['Float']['output'];
  /** Instrument, for example EUR_USD */
  symbol: Scalars['String']['output'];
  /** When the quote was taken */
  time: Scalars['DateTimeISO']['output'];
};

export type Query = {
  cacheHealth: CacheHealth;
  cacheMetrics: CacheMetrics;
  /** The latest bars, oldest first; NOT_FOUND for an unknown instrument */
  candles: Array<Candle>;
  /** The newest signals of each instrument, grouped in the order of symbols */
  latestSignals: Array<Signal>;
  /** The user of the session token; null without one */
  me?: Maybe<User>;
  /** null when the feed does not list the instrument */
  price?: Maybe<Price>;
  /** In the order of symbols; null for instruments the feed does not list */
  prices: Array<Maybe<Price>>;
  /** null when there is no such signal */
  signal?: Maybe<Signal>;
  signalStatistics: SignalStatistics;
  /**
   * Newest first, filtered by any of symbol, timeframe and status
   * @deprecated Use signalsConnection: it pages with cursors past the 200 this list stops at, stays stable while signals are added, and gives totalCount
   */
  signals: Array<Signal>;
  /** Signals newest first, filtered by any of symbol, timeframe, status, direction and author, a page at a time: `first` (with `after`) or `last` (with `before`), 1 to 100. Stable while signals are added or change status: no duplicates, nothing that existed is skipped. */
  signalsConnection: SignalConnection;
  /** null when there is no such user */
  user?: Maybe<User>;
  /** In the order of ids; null for unknown ids */
  users: Array<Maybe<User>>;
  warmingMetrics: WarmingMetrics;
};


export type QueryCandlesArgs = {
  count?: Scalars['Int']['input'];
  symbol: Scalars['String']['input'];
  timeframe: Timeframe;
};


export type QueryLatestSignalsArgs = {
  perSymbol?: Scalars['Int']['input'];
  symbols: Array<Scalars['String']['input']>;
};


export type QueryPriceArgs = {
  symbol: Scalars['String']['input'];
};


export type QueryPricesArgs = {
  symbols: Array<Scalars['String']['input']>;
};


export type QuerySignalArgs = {
  id: Scalars['Int']['input'];
};


export type QuerySignalStatisticsArgs = {
  symbol: Scalars['String']['input'];
};


export type QuerySignalsArgs = {
  limit?: Scalars['Int']['input'];
  status?: InputMaybe<SignalStatus>;
  symbol?: InputMaybe<Scalars['String']['input']>;
  timeframe?: InputMaybe<Timeframe>;
};


export type QuerySignalsConnectionArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  authorId?: InputMaybe<Scalars['Int']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  direction?: InputMaybe<SignalDirection>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<SignalStatus>;
  symbol?: InputMaybe<Scalars['String']['input']>;
  timeframe?: InputMaybe<Timeframe>;
};


export type QueryUserArgs = {
  id: Scalars['Int']['input'];
};


export type QueryUsersArgs = {
  ids: Array<Scalars['Int']['input']>;
};

/** Whole-response cache counters */
export type ResponseCacheCounters = {
  /** Requests that waited for an identical one in flight instead of executing */
  coalesced: Scalars['Int']['output'];
  /** Operations actually executed */
  executions: Scalars['Int']['output'];
  /** Misses answered by the response another gateway instance executed and stored */
  fleetCoalesced: Scalars['Int']['output'];
  hits: Scalars['Int']['output'];
  misses: Scalars['Int']['output'];
  /** Served from the in-process copy */
  nearHits: Scalars['Int']['output'];
  /** 304 answers to If-None-Match */
  notModified: Scalars['Int']['output'];
  /** Served from Redis (or the memory tier while Redis is down) */
  sharedHits: Scalars['Int']['output'];
  stores: Scalars['Int']['output'];
  /** Responses that could not be cached (mutations, errors, no hint, introspection) */
  uncacheable: Scalars['Int']['output'];
};

/** A trading signal produced by a model or a trader */
export type Signal = {
  /** Model confidence between 0 and 1 */
  confidence: Scalars['Float']['output'];
  createdAt: Scalars['DateTimeISO']['output'];
  /** The live quote of the instrument; null if the feed does not list it */
  currentPrice?: Maybe<Price>;
  direction: SignalDirection;
  entryPrice: Scalars['Float']['output'];
  id: Scalars['Int']['output'];
  status: SignalStatus;
  stopLoss?: Maybe<Scalars['Float']['output']>;
  /** Instrument, for example EUR_USD */
  symbol: Scalars['String']['output'];
  takeProfit?: Maybe<Scalars['Float']['output']>;
  timeframe: Timeframe;
  updatedAt: Scalars['DateTimeISO']['output'];
  /** The author */
  user?: Maybe<User>;
  /** Id of the author */
  userId: Scalars['Int']['output'];
};

/** A page of signals, newest first (Relay Cursor Connections) */
export type SignalConnection = {
  edges: Array<SignalEdge>;
  pageInfo: PageInfo;
  /** How many signals the whole list holds */
  totalCount: Scalars['Int']['output'];
};

export type SignalDirection =
  | 'BUY'
  | 'SELL';

/** A signal in a paged list, with its cursor */
export type SignalEdge = {
  /** Opaque; valid for this list only (the same filters) */
  cursor: Scalars['String']['output'];
  node: Signal;
};

/** A change to a signal, in the order the fleet published them */
export type SignalEvent = {
  /** The event id: pass it as `after` (or SSE Last-Event-ID) to resume after it */
  id: Scalars['String']['output'];
  kind: SignalEventKind;
  /** Why events are missing (GAP only) */
  message?: Maybe<Scalars['String']['output']>;
  occurredAt: Scalars['DateTimeISO']['output'];
  /** The signal as it is after the change; null for GAP */
  signal?: Maybe<Signal>;
};

export type SignalEventKind =
  /** A new signal */
  | 'CREATED'
  /** Events after `id` could not be replayed (older than the replay window, or too many): re-read what you show */
  | 'GAP'
  /** A signal moved to a final status */
  | 'STATUS_CHANGED';

/** Aggregates over all signals of one instrument */
export type SignalStatistics = {
  activeSignals: Scalars['Int']['output'];
  /** null when there are no signals */
  averageConfidence?: Maybe<Scalars['Float']['output']>;
  buySignals: Scalars['Int']['output'];
  executedSignals: Scalars['Int']['output'];
  lastSignalAt?: Maybe<Scalars['DateTimeISO']['output']>;
  sellSignals: Scalars['Int']['output'];
  symbol: Scalars['String']['output'];
  totalSignals: Scalars['Int']['output'];
};

/** ACTIVE signals may become EXECUTED, EXPIRED or CANCELLED; those are final */
export type SignalStatus =
  | 'ACTIVE'
  | 'CANCELLED'
  | 'EXECUTED'
  | 'EXPIRED';

export type Subscription = {
  /** Bars of an instrument built from the live ticks: the forming bar after each tick, then each bar once complete; BAD_USER_INPUT for an instrument the feed does not list */
  candles: CandleUpdate;
  /** Quote ticks of the instruments, from the one upstream price stream of the fleet. A slow client gets the latest tick of each instrument, not every tick. BAD_USER_INPUT for an instrument the feed does not list. */
  prices: Price;
  /** Signals created or changing status, optionally of some instruments or one author. Replayable: pass `after` (or SSE Last-Event-ID) to get what was missed within SUBSCRIPTION_REPLAY_SECONDS. */
  signalEvents: SignalEvent;
};


export type SubscriptionCandlesArgs = {
  symbol: Scalars['String']['input'];
  timeframe: Timeframe;
};


export type SubscriptionPricesArgs = {
  symbols: Array<Scalars['String']['input']>;
};


export type SubscriptionSignalEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  authorId?: InputMaybe<Scalars['Int']['input']>;
  symbols?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** Bar size: minutes (M), hours (H) or a day (D1) */
export type Timeframe =
  | 'D1'
  | 'H1'
  | 'H4'
  | 'M1'
  | 'M5'
  | 'M15';

/** Fields to change; at least one */
export type UpdateUserInput = {
  displayName?: InputMaybe<Scalars['String']['input']>;
  email?: InputMaybe<Scalars['String']['input']>;
};

/** A trader on the platform */
export type User = {
  createdAt: Scalars['DateTimeISO']['output'];
  displayName: Scalars['String']['output'];
  /** Private: visible to the user and to admins, null for anyone else */
  email?: Maybe<Scalars['String']['output']>;
  id: Scalars['Int']['output'];
  isActive: Scalars['Boolean']['output'];
  /** The user's newest signals; signalsConnection pages through all of them */
  signals: Array<Signal>;
  /** The user's signals newest first, a page at a time, filtered like Query.signalsConnection */
  signalsConnection: SignalConnection;
  statistics: UserStatistics;
  tier: UserTier;
  updatedAt: Scalars['DateTimeISO']['output'];
  username: Scalars['String']['output'];
};


/** A trader on the platform */
export type UserSignalsArgs = {
  limit?: Scalars['Int']['input'];
};


/** A trader on the platform */
export type UserSignalsConnectionArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  direction?: InputMaybe<SignalDirection>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  status?: InputMaybe<SignalStatus>;
  symbol?: InputMaybe<Scalars['String']['input']>;
  timeframe?: InputMaybe<Timeframe>;
};

/** Aggregates over one user's signals */
export type UserStatistics = {
  activeSignals: Scalars['Int']['output'];
  /** null when the user has no signals */
  averageConfidence?: Maybe<Scalars['Float']['output']>;
  executedSignals: Scalars['Int']['output'];
  lastSignalAt?: Maybe<Scalars['DateTimeISO']['output']>;
  totalSignals: Scalars['Int']['output'];
  userId: Scalars['Int']['output'];
};

export type UserTier =
  | 'FREE'
  | 'INSTITUTIONAL'
  | 'PRO';

export type WarmingMetrics = {
  enabled: Scalars['Boolean']['output'];
  intervalSeconds: Scalars['Int']['output'];
  lastRunAt?: Maybe<Scalars['DateTimeISO']['output']>;
  maxConcurrent: Scalars['Int']['output'];
  running: Scalars['Boolean']['output'];
  runs: Scalars['Int']['output'];
  skippedRuns: Scalars['Int']['output'];
  strategies: Array<WarmingStrategyMetrics>;
};

export type WarmingRunResult = {
  durationMs: Scalars['Int']['output'];
  /** False when another run was in progress (here or on another instance) */
  ran: Scalars['Boolean']['output'];
  /** Per strategy, for this run */
  results: Array<WarmingStrategyMetrics>;
  skippedReason?: Maybe<Scalars['String']['output']>;
};

export type WarmingStrategy =
  | 'MARKET_DATA'
  | 'SIGNALS_DATA'
  | 'STATISTICS'
  | 'USER_DATA';

export type WarmingStrategyMetrics = {
  durationMs: Scalars['Int']['output'];
  error?: Maybe<Scalars['String']['output']>;
  failures: Scalars['Int']['output'];
  itemsProcessed: Scalars['Int']['output'];
  lastRunAt?: Maybe<Scalars['DateTimeISO']['output']>;
  name: WarmingStrategy;
  runs: Scalars['Int']['output'];
  /** Outcome of the last run */
  success: Scalars['Boolean']['output'];
};

export type LiveQuotesSubscriptionVariables = Exact<{
  symbols: Array<Scalars['String']['input']> | Scalars['String']['input'];
}>;


export type LiveQuotesSubscription = { prices: { __typename: 'Price', symbol: string, bid: number, ask: number, mid: number, time: string } };

export type LiveSignalEventsSubscriptionVariables = Exact<{
  symbols?: InputMaybe<Array<Scalars['String']['input']> | Scalars['String']['input']>;
  authorId?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type LiveSignalEventsSubscription = { signalEvents: { __typename: 'SignalEvent', id: string, kind: SignalEventKind, message?: string | null, signal?: { __typename: 'Signal', id: number, symbol: string, direction: SignalDirection, status: SignalStatus, entryPrice: number, user?: { __typename: 'User', username: string } | null } | null } };

export type QuoteFragment = { __typename: 'Price', symbol: string, bid: number, ask: number, mid: number, spread: number, time: string };

export type PriceQueryVariables = Exact<{
  symbol: Scalars['String']['input'];
}>;


export type PriceQuery = { __typename: 'Query', price?: { __typename: 'Price', symbol: string, bid: number, ask: number, mid: number, spread: number, time: string } | null };

export type PricesQueryVariables = Exact<{
  symbols: Array<Scalars['String']['input']> | Scalars['String']['input'];
}>;


export type PricesQuery = { __typename: 'Query', prices: Array<{ __typename: 'Price', symbol: string, bid: number, ask: number, mid: number, spread: number, time: string } | null> };

export type CandlesQueryVariables = Exact<{
  symbol: Scalars['String']['input'];
  timeframe: Timeframe;
  count?: Scalars['Int']['input'];
}>;


export type CandlesQuery = { __typename: 'Query', candles: Array<{ __typename: 'Candle', time: string, open: number, high: number, low: number, close: number, volume: number, complete: boolean }> };

export type CountersFragment = { __typename: 'CacheCounters', hits: number, misses: number, errors: number, totalOperations: number, hitRate: number, errorRate: number, averageResponseTimeMs: number, p50ResponseTimeMs: number, p99ResponseTimeMs: number };

export type CacheMetricsQueryVariables = Exact<{ [key: string]: never; }>;


export type CacheMetricsQuery = { __typename: 'Query', cacheMetrics: { __typename: 'CacheMetrics', hits: number, misses: number, errors: number, totalOperations: number, hitRate: number, errorRate: number, averageResponseTimeMs: number, p50ResponseTimeMs: number, p99ResponseTimeMs: number, connectionHealthy: boolean, fallbackEnabled: boolean, corruptValues: number, loads: number, coalesced: number, tiers: Array<{ __typename: 'CacheTierMetrics', tier: string, metrics: { __typename: 'CacheCounters', hits: number, misses: number, errors: number, totalOperations: number, hitRate: number, errorRate: number, averageResponseTimeMs: number, p50ResponseTimeMs: number, p99ResponseTimeMs: number } }>, responseCache?: { __typename: 'ResponseCacheCounters', hits: number, nearHits: number, sharedHits: number, misses: number, executions: number, coalesced: number, stores: number, uncacheable: number, notModified: number } | null } };

export type CacheHealthQueryVariables = Exact<{ [key: string]: never; }>;


export type CacheHealthQuery = { __typename: 'Query', cacheHealth: { __typename: 'CacheHealth', status: CacheStatus, connectionHealthy: boolean, fallbackEnabled: boolean, pendingInvalidations: number, metrics: { __typename: 'CacheCounters', hits: number, misses: number, errors: number, totalOperations: number, hitRate: number, errorRate: number, averageResponseTimeMs: number, p50ResponseTimeMs: number, p99ResponseTimeMs: number } } };

export type StrategyRunFragment = { __typename: 'WarmingStrategyMetrics', name: WarmingStrategy, success: boolean, itemsProcessed: number, durationMs: number, error?: string | null, runs: number, failures: number, lastRunAt?: string | null };

export type WarmingMetricsQueryVariables = Exact<{ [key: string]: never; }>;


export type WarmingMetricsQuery = { __typename: 'Query', warmingMetrics: { __typename: 'WarmingMetrics', enabled: boolean, running: boolean, intervalSeconds: number, maxConcurrent: number, runs: number, skippedRuns: number, lastRunAt?: string | null, strategies: Array<{ __typename: 'WarmingStrategyMetrics', name: WarmingStrategy, success: boolean, itemsProcessed: number, durationMs: number, error?: string | null, runs: number, failures: number, lastRunAt?: string | null }> } };

export type InvalidateUserMutationVariables = Exact<{
  id: Scalars['Int']['input'];
}>;


export type InvalidateUserMutation = { __typename: 'Mutation', invalidateCache: { __typename: 'InvalidationResult', scope: InvalidationScope, removed: number } };

export type InvalidateCacheMutationVariables = Exact<{
  input: InvalidateCacheInput;
}>;


export type InvalidateCacheMutation = { __typename: 'Mutation', invalidateCache: { __typename: 'InvalidationResult', scope: InvalidationScope, removed: number } };

export type TriggerCacheWarmingMutationVariables = Exact<{
  strategies?: InputMaybe<Array<WarmingStrategy> | WarmingStrategy>;
}>;


export type TriggerCacheWarmingMutation = { __typename: 'Mutation', triggerCacheWarming: { __typename: 'WarmingRunResult', ran: boolean, skippedReason?: string | null, durationMs: number, results: Array<{ __typename: 'WarmingStrategyMetrics', name: WarmingStrategy, success: boolean, itemsProcessed: number, durationMs: number, error?: string | null, runs: number, failures: number, lastRunAt?: string | null }> } };

export type LatestSignalsQueryVariables = Exact<{
  symbols: Array<Scalars['String']['input']> | Scalars['String']['input'];
  perSymbol?: Scalars['Int']['input'];
}>;


export type LatestSignalsQuery = { __typename: 'Query', latestSignals: Array<{ __typename: 'Signal', id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string, user?: { __typename: 'User', id: number, username: string, displayName: string } | null, currentPrice?: { __typename: 'Price', bid: number, ask: number, spread: number, time: string } | null }> };

export type SignalsQueryVariables = Exact<{
  symbol?: InputMaybe<Scalars['String']['input']>;
  timeframe?: InputMaybe<Timeframe>;
  status?: InputMaybe<SignalStatus>;
  limit?: Scalars['Int']['input'];
}>;


export type SignalsQuery = { __typename: 'Query', signals: Array<{ __typename: 'Signal', userId: number, id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string }> };

export type SignalQueryVariables = Exact<{
  id: Scalars['Int']['input'];
}>;


export type SignalQuery = { __typename: 'Query', signal?: { __typename: 'Signal', updatedAt: string, id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string, user?: { __typename: 'User', id: number, username: string } | null } | null };

export type SignalStatisticsQueryVariables = Exact<{
  symbol: Scalars['String']['input'];
}>;


export type SignalStatisticsQuery = { __typename: 'Query', signalStatistics: { __typename: 'SignalStatistics', symbol: string, totalSignals: number, activeSignals: number, executedSignals: number, buySignals: number, sellSignals: number, averageConfidence?: number | null, lastSignalAt?: string | null } };

export type CreateSignalMutationVariables = Exact<{
  input: CreateSignalInput;
}>;


export type CreateSignalMutation = { __typename: 'Mutation', createSignal: { __typename: 'Signal', userId: number, id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string } };

export type UpdateSignalStatusMutationVariables = Exact<{
  id: Scalars['Int']['input'];
  status: SignalStatus;
}>;


export type UpdateSignalStatusMutation = { __typename: 'Mutation', updateSignalStatus: { __typename: 'Signal', id: number, status: SignalStatus, updatedAt: string } };

export type SignalFeedQueryVariables = Exact<{
  symbol?: InputMaybe<Scalars['String']['input']>;
  timeframe?: InputMaybe<Timeframe>;
  status?: InputMaybe<SignalStatus>;
  direction?: InputMaybe<SignalDirection>;
  authorId?: InputMaybe<Scalars['Int']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
}>;


export type SignalFeedQuery = { __typename: 'Query', signalsConnection: { __typename: 'SignalConnection', totalCount: number, edges: Array<{ __typename: 'SignalEdge', cursor: string, node: { __typename: 'Signal', userId: number, id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor?: string | null, hasPreviousPage: boolean, startCursor?: string | null } } };

export type UserProfileFragment = { __typename: 'User', id: number, username: string, displayName: string, tier: UserTier, isActive: boolean, email?: string | null };

export type SignalSummaryFragment = { __typename: 'Signal', id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string };

export type UserWithSignalsQueryVariables = Exact<{
  id: Scalars['Int']['input'];
  signalLimit?: Scalars['Int']['input'];
}>;


export type UserWithSignalsQuery = { __typename: 'Query', user?: { __typename: 'User', id: number, username: string, displayName: string, tier: UserTier, isActive: boolean, email?: string | null, statistics: { __typename: 'UserStatistics', totalSignals: number, activeSignals: number, executedSignals: number, averageConfidence?: number | null, lastSignalAt?: string | null }, signals: Array<{ __typename: 'Signal', id: number, symbol: string, timeframe: Timeframe, direction: SignalDirection, status: SignalStatus, entryPrice: number, stopLoss?: number | null, takeProfit?: number | null, confidence: number, createdAt: string }> } | null };

export type UsersQueryVariables = Exact<{
  ids: Array<Scalars['Int']['input']> | Scalars['Int']['input'];
}>;


export type UsersQuery = { __typename: 'Query', users: Array<{ __typename: 'User', id: number, username: string, displayName: string, tier: UserTier, isActive: boolean, email?: string | null } | null> };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { __typename: 'Query', me?: { __typename: 'User', id: number, username: string, displayName: string, tier: UserTier, isActive: boolean, email?: string | null } | null };

export type UpdateUserMutationVariables = Exact<{
  id: Scalars['Int']['input'];
  input: UpdateUserInput;
}>;


export type UpdateUserMutation = { __typename: 'Mutation', updateUser: { __typename: 'User', updatedAt: string, id: number, username: string, displayName: string, tier: UserTier, isActive: boolean, email?: string | null } };

export const QuoteFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Quote"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Price"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"bid"}},{"kind":"Field","name":{"kind":"Name","value":"ask"}},{"kind":"Field","name":{"kind":"Name","value":"mid"}},{"kind":"Field","name":{"kind":"Name","value":"spread"}},{"kind":"Field","name":{"kind":"Name","value":"time"}}]}}]} as unknown as DocumentNode<QuoteFragment, unknown>;
export const CountersFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Counters"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CacheCounters"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hits"}},{"kind":"Field","name":{"kind":"Name","value":"misses"}},{"kind":"Field","name":{"kind":"Name","value":"errors"}},{"kind":"Field","name":{"kind":"Name","value":"totalOperations"}},{"kind":"Field","name":{"kind":"Name","value":"hitRate"}},{"kind":"Field","name":{"kind":"Name","value":"errorRate"}},{"kind":"Field","name":{"kind":"Name","value":"averageResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p50ResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p99ResponseTimeMs"}}]}}]} as unknown as DocumentNode<CountersFragment, unknown>;
export const StrategyRunFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"StrategyRun"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"WarmingStrategyMetrics"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"success"}},{"kind":"Field","name":{"kind":"Name","value":"itemsProcessed"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"runs"}},{"kind":"Field","name":{"kind":"Name","value":"failures"}},{"kind":"Field","name":{"kind":"Name","value":"lastRunAt"}}]}}]} as unknown as DocumentNode<StrategyRunFragment, unknown>;
export const UserProfileFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserProfile"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]} as unknown as DocumentNode<UserProfileFragment, unknown>;
export const SignalSummaryFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<SignalSummaryFragment, unknown>;
export const LiveQuotesDocument = {"__meta__":{"hash":"9821e1dfc504e98e65cf9212162655bfab301dc4c229680dd183fe932b05717f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"LiveQuotes"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"prices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbols"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"bid"}},{"kind":"Field","name":{"kind":"Name","value":"ask"}},{"kind":"Field","name":{"kind":"Name","value":"mid"}},{"kind":"Field","name":{"kind":"Name","value":"time"}}]}}]}}]} as unknown as DocumentNode<LiveQuotesSubscription, LiveQuotesSubscriptionVariables>;
export const LiveSignalEventsDocument = {"__meta__":{"hash":"322b68ccd8293d0c62dbab86cacf33dd41cfb00701301f304ab885b3563b930e"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"LiveSignalEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"authorId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"signalEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbols"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}}},{"kind":"Argument","name":{"kind":"Name","value":"authorId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"authorId"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"signal"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"username"}}]}}]}}]}}]}}]} as unknown as DocumentNode<LiveSignalEventsSubscription, LiveSignalEventsSubscriptionVariables>;
export const PriceDocument = {"__meta__":{"hash":"c16ffe0ffb649232d689c9efd83ae15a19735cc16f89bbe9961713a22ff75c55"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Price"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbol"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"Quote"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Quote"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Price"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"bid"}},{"kind":"Field","name":{"kind":"Name","value":"ask"}},{"kind":"Field","name":{"kind":"Name","value":"mid"}},{"kind":"Field","name":{"kind":"Name","value":"spread"}},{"kind":"Field","name":{"kind":"Name","value":"time"}}]}}]} as unknown as DocumentNode<PriceQuery, PriceQueryVariables>;
export const PricesDocument = {"__meta__":{"hash":"b4076a3b750d0105f3529aa7fe62d8ae9f916460aad542221eb3ef8982cef615"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Prices"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"prices"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbols"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"Quote"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Quote"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Price"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"bid"}},{"kind":"Field","name":{"kind":"Name","value":"ask"}},{"kind":"Field","name":{"kind":"Name","value":"mid"}},{"kind":"Field","name":{"kind":"Name","value":"spread"}},{"kind":"Field","name":{"kind":"Name","value":"time"}}]}}]} as unknown as DocumentNode<PricesQuery, PricesQueryVariables>;
export const CandlesDocument = {"__meta__":{"hash":"d1a80ecfe40fcce9978ebd2c95c634d7a4086cbfb30bd3d9f009e1129882be6c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Candles"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"timeframe"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Timeframe"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"count"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"candles"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbol"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}}},{"kind":"Argument","name":{"kind":"Name","value":"timeframe"},"value":{"kind":"Variable","name":{"kind":"Name","value":"timeframe"}}},{"kind":"Argument","name":{"kind":"Name","value":"count"},"value":{"kind":"Variable","name":{"kind":"Name","value":"count"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"time"}},{"kind":"Field","name":{"kind":"Name","value":"open"}},{"kind":"Field","name":{"kind":"Name","value":"high"}},{"kind":"Field","name":{"kind":"Name","value":"low"}},{"kind":"Field","name":{"kind":"Name","value":"close"}},{"kind":"Field","name":{"kind":"Name","value":"volume"}},{"kind":"Field","name":{"kind":"Name","value":"complete"}}]}}]}}]} as unknown as DocumentNode<CandlesQuery, CandlesQueryVariables>;
export const CacheMetricsDocument = {"__meta__":{"hash":"651521fea5a8beb94c3cfa34b0dba9f516239d49ddc6dd887b29c43520bb7636"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CacheMetrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"cacheMetrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hits"}},{"kind":"Field","name":{"kind":"Name","value":"misses"}},{"kind":"Field","name":{"kind":"Name","value":"errors"}},{"kind":"Field","name":{"kind":"Name","value":"totalOperations"}},{"kind":"Field","name":{"kind":"Name","value":"hitRate"}},{"kind":"Field","name":{"kind":"Name","value":"errorRate"}},{"kind":"Field","name":{"kind":"Name","value":"averageResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p50ResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p99ResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"connectionHealthy"}},{"kind":"Field","name":{"kind":"Name","value":"fallbackEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"corruptValues"}},{"kind":"Field","name":{"kind":"Name","value":"loads"}},{"kind":"Field","name":{"kind":"Name","value":"coalesced"}},{"kind":"Field","name":{"kind":"Name","value":"tiers"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"metrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"Counters"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"responseCache"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hits"}},{"kind":"Field","name":{"kind":"Name","value":"nearHits"}},{"kind":"Field","name":{"kind":"Name","value":"sharedHits"}},{"kind":"Field","name":{"kind":"Name","value":"misses"}},{"kind":"Field","name":{"kind":"Name","value":"executions"}},{"kind":"Field","name":{"kind":"Name","value":"coalesced"}},{"kind":"Field","name":{"kind":"Name","value":"stores"}},{"kind":"Field","name":{"kind":"Name","value":"uncacheable"}},{"kind":"Field","name":{"kind":"Name","value":"notModified"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Counters"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CacheCounters"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hits"}},{"kind":"Field","name":{"kind":"Name","value":"misses"}},{"kind":"Field","name":{"kind":"Name","value":"errors"}},{"kind":"Field","name":{"kind":"Name","value":"totalOperations"}},{"kind":"Field","name":{"kind":"Name","value":"hitRate"}},{"kind":"Field","name":{"kind":"Name","value":"errorRate"}},{"kind":"Field","name":{"kind":"Name","value":"averageResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p50ResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p99ResponseTimeMs"}}]}}]} as unknown as DocumentNode<CacheMetricsQuery, CacheMetricsQueryVariables>;
export const CacheHealthDocument = {"__meta__":{"hash":"8e0274b353546a98e89cacb293770a4106fd571edc41c4e4a4dde300b5c3951f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"CacheHealth"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"cacheHealth"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"connectionHealthy"}},{"kind":"Field","name":{"kind":"Name","value":"fallbackEnabled"}},{"kind":"Field","name":{"kind":"Name","value":"pendingInvalidations"}},{"kind":"Field","name":{"kind":"Name","value":"metrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"Counters"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"Counters"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"CacheCounters"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hits"}},{"kind":"Field","name":{"kind":"Name","value":"misses"}},{"kind":"Field","name":{"kind":"Name","value":"errors"}},{"kind":"Field","name":{"kind":"Name","value":"totalOperations"}},{"kind":"Field","name":{"kind":"Name","value":"hitRate"}},{"kind":"Field","name":{"kind":"Name","value":"errorRate"}},{"kind":"Field","name":{"kind":"Name","value":"averageResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p50ResponseTimeMs"}},{"kind":"Field","name":{"kind":"Name","value":"p99ResponseTimeMs"}}]}}]} as unknown as DocumentNode<CacheHealthQuery, CacheHealthQueryVariables>;
export const WarmingMetricsDocument = {"__meta__":{"hash":"eff21d13cb63900254d7814917a7e26e4d7c8e7ce4e2d29737960ac917c319c1"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"WarmingMetrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"warmingMetrics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"running"}},{"kind":"Field","name":{"kind":"Name","value":"intervalSeconds"}},{"kind":"Field","name":{"kind":"Name","value":"maxConcurrent"}},{"kind":"Field","name":{"kind":"Name","value":"runs"}},{"kind":"Field","name":{"kind":"Name","value":"skippedRuns"}},{"kind":"Field","name":{"kind":"Name","value":"lastRunAt"}},{"kind":"Field","name":{"kind":"Name","value":"strategies"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"StrategyRun"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"StrategyRun"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"WarmingStrategyMetrics"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"success"}},{"kind":"Field","name":{"kind":"Name","value":"itemsProcessed"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"runs"}},{"kind":"Field","name":{"kind":"Name","value":"failures"}},{"kind":"Field","name":{"kind":"Name","value":"lastRunAt"}}]}}]} as unknown as DocumentNode<WarmingMetricsQuery, WarmingMetricsQueryVariables>;
export const InvalidateUserDocument = {"__meta__":{"hash":"5e6cd97e4e5e0e97136fb64b22ea771bf68467b4aea6e9c2777781b68d201311"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"InvalidateUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"invalidateCache"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"scope"},"value":{"kind":"EnumValue","value":"USER"}},{"kind":"ObjectField","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}},{"kind":"Field","name":{"kind":"Name","value":"removed"}}]}}]}}]} as unknown as DocumentNode<InvalidateUserMutation, InvalidateUserMutationVariables>;
export const InvalidateCacheDocument = {"__meta__":{"hash":"e2557d327f1d3d40c5c68e31a16fa40ccf88185fa57851e9a1c2cd2a54ee2d61"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"InvalidateCache"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"InvalidateCacheInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"invalidateCache"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"scope"}},{"kind":"Field","name":{"kind":"Name","value":"removed"}}]}}]}}]} as unknown as DocumentNode<InvalidateCacheMutation, InvalidateCacheMutationVariables>;
export const TriggerCacheWarmingDocument = {"__meta__":{"hash":"b5245ede06a05ed1f77e23e5560cbbc178be01e49a94369131ef230a9301b018"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"TriggerCacheWarming"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"strategies"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"WarmingStrategy"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"triggerCacheWarming"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"strategies"},"value":{"kind":"Variable","name":{"kind":"Name","value":"strategies"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"ran"}},{"kind":"Field","name":{"kind":"Name","value":"skippedReason"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"results"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"StrategyRun"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"StrategyRun"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"WarmingStrategyMetrics"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"success"}},{"kind":"Field","name":{"kind":"Name","value":"itemsProcessed"}},{"kind":"Field","name":{"kind":"Name","value":"durationMs"}},{"kind":"Field","name":{"kind":"Name","value":"error"}},{"kind":"Field","name":{"kind":"Name","value":"runs"}},{"kind":"Field","name":{"kind":"Name","value":"failures"}},{"kind":"Field","name":{"kind":"Name","value":"lastRunAt"}}]}}]} as unknown as DocumentNode<TriggerCacheWarmingMutation, TriggerCacheWarmingMutationVariables>;
export const LatestSignalsDocument = {"__meta__":{"hash":"e23f7a070cfacf6b6f28a3bbe8cd4419214450fb7b6cfc98d4bc5d8d181342d3"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"LatestSignals"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"perSymbol"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"latestSignals"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbols"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbols"}}},{"kind":"Argument","name":{"kind":"Name","value":"perSymbol"},"value":{"kind":"Variable","name":{"kind":"Name","value":"perSymbol"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"SignalSummary"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}}]}},{"kind":"Field","name":{"kind":"Name","value":"currentPrice"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"bid"}},{"kind":"Field","name":{"kind":"Name","value":"ask"}},{"kind":"Field","name":{"kind":"Name","value":"spread"}},{"kind":"Field","name":{"kind":"Name","value":"time"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<LatestSignalsQuery, LatestSignalsQueryVariables>;
export const SignalsDocument = {"__meta__":{"hash":"00df694be8f4e29d4282e8635431b8ef77337aa61bf9cde70a9a232b589db9b7"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Signals"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"timeframe"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Timeframe"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SignalStatus"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"limit"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"signals"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbol"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}}},{"kind":"Argument","name":{"kind":"Name","value":"timeframe"},"value":{"kind":"Variable","name":{"kind":"Name","value":"timeframe"}}},{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}},{"kind":"Argument","name":{"kind":"Name","value":"limit"},"value":{"kind":"Variable","name":{"kind":"Name","value":"limit"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"SignalSummary"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<SignalsQuery, SignalsQueryVariables>;
export const SignalDocument = {"__meta__":{"hash":"44122dc2a2ce0fabb21a09ab579c21f888330b27a45adc798e1847d41e4404c5"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Signal"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"signal"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"SignalSummary"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<SignalQuery, SignalQueryVariables>;
export const SignalStatisticsDocument = {"__meta__":{"hash":"ee8028cb1285d87b098e0d90c87d550c73f87a048dfc55625710c66bdbef466e"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SignalStatistics"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"signalStatistics"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbol"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"totalSignals"}},{"kind":"Field","name":{"kind":"Name","value":"activeSignals"}},{"kind":"Field","name":{"kind":"Name","value":"executedSignals"}},{"kind":"Field","name":{"kind":"Name","value":"buySignals"}},{"kind":"Field","name":{"kind":"Name","value":"sellSignals"}},{"kind":"Field","name":{"kind":"Name","value":"averageConfidence"}},{"kind":"Field","name":{"kind":"Name","value":"lastSignalAt"}}]}}]}}]} as unknown as DocumentNode<SignalStatisticsQuery, SignalStatisticsQueryVariables>;
export const CreateSignalDocument = {"__meta__":{"hash":"488c6a4c7977ea99e82821bb0cc76c2dac70986676e5889e16f9ad5adcc838c5"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateSignal"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateSignalInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"createSignal"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"SignalSummary"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<CreateSignalMutation, CreateSignalMutationVariables>;
export const UpdateSignalStatusDocument = {"__meta__":{"hash":"42f58592ade9aeed8a5b8086d67bcb5c9d207c8a52f205dcd53f4f5f4f8e8b41"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateSignalStatus"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SignalStatus"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"updateSignalStatus"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}}]} as unknown as DocumentNode<UpdateSignalStatusMutation, UpdateSignalStatusMutationVariables>;
export const SignalFeedDocument = {"__meta__":{"hash":"b4a193c4ffa06535515a0c4e8b09617681435ae35ccbebe74314e610479a074c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SignalFeed"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"timeframe"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Timeframe"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SignalStatus"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"direction"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"SignalDirection"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"authorId"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"signalsConnection"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"symbol"},"value":{"kind":"Variable","name":{"kind":"Name","value":"symbol"}}},{"kind":"Argument","name":{"kind":"Name","value":"timeframe"},"value":{"kind":"Variable","name":{"kind":"Name","value":"timeframe"}}},{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}},{"kind":"Argument","name":{"kind":"Name","value":"direction"},"value":{"kind":"Variable","name":{"kind":"Name","value":"direction"}}},{"kind":"Argument","name":{"kind":"Name","value":"authorId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"authorId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"SignalSummary"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}},{"kind":"Field","name":{"kind":"Name","value":"hasPreviousPage"}},{"kind":"Field","name":{"kind":"Name","value":"startCursor"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<SignalFeedQuery, SignalFeedQueryVariables>;
export const UserWithSignalsDocument = {"__meta__":{"hash":"1458d3f973c9faa7fe3f18e893b2007ceda82b494ea0d9efe0e39e221706cb52"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"UserWithSignals"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"signalLimit"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},"defaultValue":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserProfile"}},{"kind":"Field","name":{"kind":"Name","value":"statistics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"totalSignals"}},{"kind":"Field","name":{"kind":"Name","value":"activeSignals"}},{"kind":"Field","name":{"kind":"Name","value":"executedSignals"}},{"kind":"Field","name":{"kind":"Name","value":"averageConfidence"}},{"kind":"Field","name":{"kind":"Name","value":"lastSignalAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"signals"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"limit"},"value":{"kind":"Variable","name":{"kind":"Name","value":"signalLimit"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"SignalSummary"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserProfile"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"SignalSummary"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Signal"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"symbol"}},{"kind":"Field","name":{"kind":"Name","value":"timeframe"}},{"kind":"Field","name":{"kind":"Name","value":"direction"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"entryPrice"}},{"kind":"Field","name":{"kind":"Name","value":"stopLoss"}},{"kind":"Field","name":{"kind":"Name","value":"takeProfit"}},{"kind":"Field","name":{"kind":"Name","value":"confidence"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}}]} as unknown as DocumentNode<UserWithSignalsQuery, UserWithSignalsQueryVariables>;
export const UsersDocument = {"__meta__":{"hash":"dc6007dd846f43be6154885560e7c4382c3c8df184e87e29888c03dcef593b3d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Users"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"ids"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"users"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"ids"},"value":{"kind":"Variable","name":{"kind":"Name","value":"ids"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserProfile"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserProfile"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]} as unknown as DocumentNode<UsersQuery, UsersQueryVariables>;
export const MeDocument = {"__meta__":{"hash":"953c8ffeeaf885da520b4ddc75ab60a4d2394a5e61fe0022046d7ea801f3bb86"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserProfile"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserProfile"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]} as unknown as DocumentNode<MeQuery, MeQueryVariables>;
export const UpdateUserDocument = {"__meta__":{"hash":"991642b559b923ab912030b9782228708695cd4029f864ad8961f6f4044808fa"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"UpdateUser"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UpdateUserInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"updateUser"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserProfile"}},{"kind":"Field","name":{"kind":"Name","value":"updatedAt"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserProfile"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"username"}},{"kind":"Field","name":{"kind":"Name","value":"displayName"}},{"kind":"Field","name":{"kind":"Name","value":"tier"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}},{"kind":"Field","name":{"kind":"Name","value":"email"}}]}}]} as unknown as DocumentNode<UpdateUserMutation, UpdateUserMutationVariables>;