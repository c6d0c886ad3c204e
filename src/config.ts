import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseEnv } from 'node:util';
import { z } from 'zod';

import type { PersistedDocumentsMode } from './graphql/persisted/persisted-documents';
import { MAX_BEARER_TOKEN_LENGTH } from './sessions/viewer';

/**
 * The only reader of `process.env`. Every setting is parsed and validated once, at start-up, into
 * a frozen object whose names carry their units. `.env.example` documents each variable.
 */

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type MarketDataProviderKind = 'simulated' | 'oanda';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Which Redis deployment the cache talks to: one server (REDIS_URL), a Cluster, or a master found through Sentinel. */
export type RedisTopology =
  | { readonly kind: 'standalone'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[] }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly HostPort[]; readonly masterName: string; readonly sentinelPassword: string | undefined };

export interface Config {
  readonly nodeEnv: NodeEnv;
  readonly logLevel: LogLevel;
  /** `undefined` selects the embedded PostgreSQL (PGlite). */
  readonly database: {
    readonly url: string | undefined;
    /**
     * Where the embedded PostgreSQL keeps its files, so that a restart opens it in well under a
     * second instead of creating and seeding it again (about 7 s); `undefined`: in memory, lost on exit.
     */
    readonly embeddedDataDir: string | undefined;
    /** PostgreSQL's buffer cache in the embedded database, inside its WebAssembly memory. */
    readonly embeddedSharedBuffersBytes: number;
    readonly poolSize: number;
    /** Generate deterministic demo users, signals and sessions when the store is empty. */
    readonly seedDemoData: boolean;
  };
  readonly redis: {
    readonly topology: RedisTopology;
    readonly password: string | undefined;
    readonly db: number;
    readonly poolSize: number;
    readonly timeoutMs: number;
    readonly retryOnTimeout: boolean;
    readonly healthCheckIntervalMs: number;
    readonly maxReconnectDelayMs: number;
  };
  readonly cache: {
    /** false: the data cache keeps nothing and every read goes to the database or the provider (to measure what it saves, or rule it out). */
    readonly enabled: boolean;
    readonly keyPrefix: string;
    readonly ttlSeconds: { readonly short: number; readonly medium: number; readonly long: number; readonly veryLong: number };
    /** Life of a cached quote: live prices go stale fast. */
    readonly priceTtlSeconds: number;
    readonly fallbackMaxItems: number;
    readonly fallbackMaxBytes: number;
    /** Longest an instance waits for another instance loading the same cold key (and that load's lease); 0 turns it off. */
    readonly fleetFlightWaitMs: number;
    /** Longest a write waits for other instances to acknowledge its invalidation; a silent one is evicted from the bus. */
    readonly busAckTimeoutMs: number;
    /** Life of an instance's bus membership after its last heartbeat: an instance cut off from the bus stops using near copies within it. */
    readonly busMemberLeaseMs: number;
    readonly warming: { readonly enabled: boolean; readonly intervalSeconds: number; readonly maxConcurrent: number };
  };
  readonly graphql: {
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxDirectives: number;
    readonly maxCost: number;
    readonly maxTokens: number;
    /** Introspection, and "did you mean" suggestions in validation errors. */
    readonly introspection: boolean;
  };
  /** Persisted documents: manifests (the allowlist), what is accepted, and how long registered ones are kept. */
  readonly persistedDocuments: {
    /** PERSISTED_DOCUMENTS: manifest files, comma-separated; none by default. */
    readonly manifestPaths: readonly string[];
    readonly mode: PersistedDocumentsMode;
    readonly apqTtlSeconds: number;
  };
  /** Budgets of query cost per viewer (README: Rate limits); off unless enabled. */
  readonly rateLimit: {
    readonly enabled: boolean;
    readonly user: RateBudget;
    /** Per client address (see http.trustedProxies). */
    readonly anonymous: RateBudget;
    /** `undefined`: the admin is exempt. */
    readonly admin: RateBudget | undefined;
    /** What an answer from the response cache spends, in percent of its query's cost (at least 1). */
    readonly hitCostPercent: number;
    /** Largest allowance an instance leases from Redis for one viewer at a time (see RateLimiter). */
    readonly leaseMaxCost: number;
    /** Longest a lease waits for Redis before the local limiter decides instead. */
    readonly redisTimeoutMs: number;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    /** A GET with a longer URL (path and query string) gets 414, with a hint to use POST. */
    readonly getMaxUrlBytes: number;
    readonly corsOrigins: readonly string[];
    /** Longest a client may take to send a whole request, headers and body (the handler's own time does not count): 408 past it. */
    readonly requestTimeoutMs: number;
    /** Longest a client may take to send a request's headers; at most requestTimeoutMs. */
    readonly headersTimeoutMs: number;
    /** Life of an idle keep-alive connection between two requests. */
    readonly keepAliveTimeoutMs: number;
    /**
     * Addresses and CIDR ranges (TRUSTED_PROXIES) whose `X-Forwarded-For` is believed when telling
     * anonymous callers apart; empty: the connecting address is the client's.
     */
    readonly trustedProxies: readonly string[];
  };
  readonly responseCache: {
    readonly enabled: boolean;
    /** In-process copies of responses in front of Redis. */
    readonly nearEnabled: boolean;
    readonly nearMaxBytes: number;
    readonly nearMaxTtlSeconds: number;
    /** Cache hints by schema coordinate (`Price`, `User.email`), over the ones in code. */
    readonly hints: ReadonlyMap<string, { readonly maxAge?: number; readonly scope?: 'PUBLIC' | 'PRIVATE' }>;
  };
  /** Bearer token that grants operator rights; `undefined` means no admin access at all. */
  readonly adminApiToken: string | undefined;
  /** GraphiQL at `GET /graphql` for browsers (assets under `/playground/`); off in production unless enabled. */
  readonly playground: { readonly enabled: boolean };
  /** The operator console at `GET /ops` (its data needs the admin token); off in production unless enabled. */
  readonly opsConsole: { readonly enabled: boolean };
  /**
   * The seed's `monitor_cache_performance`: every interval, the window since the last sample is
   * judged; a window of fewer operations than `minOperations` says too little to judge.
   */
  readonly cacheMonitor: {
    readonly intervalSeconds: number;
    /** A window's hit rate under this (percent) logs a warning. */
    readonly minHitRatePercent: number;
    /** A window's error rate over this (percent) logs an error. */
    readonly maxErrorRatePercent: number;
    readonly minOperations: number;
  };
  readonly marketData: {
    readonly provider: MarketDataProviderKind;
    /** Artificial delay of the simulated feed, to model a remote API. */
    readonly simulatedLatencyMs: number;
    readonly timeoutMs: number;
    readonly maxRetries: number;
    readonly retryBaseDelayMs: number;
    /** How long after its fresh copy expires a quote or candle series may still be served when the provider fails; 0: never. */
    readonly staleIfErrorSeconds: number;
    /**
     * How long a read waits for a fresh load before answering from a last-known copy within the
     * window (the load goes on in the background); 0: wait for the provider however long it takes.
     */
    readonly staleAfterMs: number;
    /** Consecutive failed calls that open the provider's circuit, and how long it stays open before one probe. */
    readonly breaker: { readonly failureThreshold: number; readonly openMs: number };
    readonly oanda: { readonly apiUrl: string; readonly streamUrl: string; readonly apiToken: string | undefined; readonly accountId: string | undefined };
  };
  /** GraphQL subscriptions (graphql-ws and SSE) and the one upstream quote stream behind them. */
  readonly live: {
    readonly enabled: boolean;
    /** A WebSocket must send an accepted connection_init within this, or is closed with 4408. */
    readonly wsInitTimeoutMs: number;
    /** How often a connection's session is checked again: a revoked or expired one closes with 4403 within it. */
    readonly authRecheckMs: number;
    /** Signal events kept in Redis for replay to a client that reconnects with its last event id. */
    readonly replaySeconds: number;
    /** Signal events queued for one slow connection before it is closed (quotes are conflated, never queued). */
    readonly maxQueuedEvents: number;
    readonly maxSubscriptionsPerConnection: number;
    /** Open connections per viewer (a user, the admin, or an anonymous client IP). */
    readonly maxConnectionsPerViewer: number;
    /** The upstream quote stream's leader lease: a dead leader is replaced within about this plus a renewal period. */
    readonly streamLeaseMs: number;
    /** The upstream stream counts as dead after this long without a tick or heartbeat, and is reopened with backoff. */
    readonly streamHeartbeatTimeoutMs: number;
    /** Ticks per second per instrument of the simulated feed's stream. */
    readonly simulatedTicksPerSecond: number;
  };
  /** HTTP caching by a CDN: the headers of cacheable answers, and invalidations forwarded to it as purges. */
  readonly cdn: {
    /** `s-maxage` of public answers, capped by their life (their smallest cache hint); `undefined`: that life. */
    readonly sMaxAgeSeconds: number | undefined;
    /** `stale-while-revalidate` of public answers; `undefined`: none. */
    readonly staleWhileRevalidateSeconds: number | undefined;
    /** The header naming a public answer's tags (`Surrogate-Key`, or `Cache-Tag`, …), and its longest value. */
    readonly surrogateKeyHeader: string;
    readonly surrogateKeyMaxBytes: number;
    /** `undefined` (CDN_PURGE_URL unset): no purges are sent. */
    readonly purgeUrl: string | undefined;
    /** Wait before a purge goes out, gathering more into it (what comes while one is under way always goes in the next). */
    readonly purgeBatchMs: number;
    readonly purgeTimeoutMs: number;
    /** Tags kept while the CDN is unreachable; past it they become one full purge. */
    readonly purgeMaxPendingTags: number;
    readonly purgeMaxRetryDelayMs: number;
  };
  /** OpenTelemetry traces exported over OTLP/HTTP; `undefined` (no OTLP endpoint set): no tracing at all. */
  readonly tracing: TracingConfig | undefined;
}

/** The standard OTEL_TRACES_SAMPLER values (the ratio ones take OTEL_TRACES_SAMPLER_ARG). */
export type TraceSamplerKind = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  readonly tracesUrl: string;
  /** Sent with every export (an API key, a tenant). */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, under the service name (which OTEL_SERVICE_NAME sets). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** `ratio` (0–1) is read by the traceidratio kinds only. */
  readonly sampler: { readonly kind: TraceSamplerKind; readonly ratio: number };
  /** Longest a finished span waits before it is exported with the others of its batch. */
  readonly exportDelayMs: number;
  /** OTLP/HTTP's encoding: protobuf (its default) or JSON. */
  readonly protocol: OtlpProtocol;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

/** A budget of query cost: refilled at `costPerMinute`, holding at most `burstCost`. */
export interface RateBudget {
  readonly costPerMinute: number;
  readonly burstCost: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const booleanText = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const seconds = z.coerce.number().positive().max(86_400 * 365);
const percent = z.coerce.number().min(0).max(100);

/** Reads one variable through its schema; the error names the variable and, unless secret, shows the value. */
function read<T>(env: Env, name: string, schema: z.ZodType<T>, fallback: string | undefined, secret = false): T {
  const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
  const result = schema.safeParse(raw);
  if (!result.success) {
    const reason = result.error.issues.map((issue) => issue.message).join('; ');
    const shown = raw === undefined ? 'missing' : secret ? 'invalid (value hidden)' : `"${raw}"`;
    throw new ConfigError(name, `is ${shown}: ${reason}`);
  }
  return result.data;
}

const optionalText = z.string().min(1).optional();
/** Items separated by commas, trimmed, empty ones left out. */
const commaList = z.string().transform((text) => text.split(',').map((item) => item.trim()).filter((item) => item !== ''));
/** PGLITE_DATA_DIR's value for a database in memory: PGlite's own spelling of it. */
const IN_MEMORY = 'memory://';

/** `{"Price": {"maxAge": 5}, "User.email": {"scope": "PRIVATE"}}`: hints by schema coordinate. */
const hintsJson = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, 'keys must be schema coordinates like Type or Type.field'),
      z.strictObject({ maxAge: z.number().int().min(0).optional(), scope: z.enum(['PUBLIC', 'PRIVATE']).optional() }),
    ),
  );

export function loadConfig(env: Env): Config {
  const nodeEnv = read(env, 'NODE_ENV', z.enum(['development', 'production', 'test']), 'development');
  const provider = read(env, 'MARKET_DATA_PROVIDER', z.enum(['simulated', 'oanda']), 'simulated');
  const oandaToken = read(env, 'OANDA_API_TOKEN', optionalText, undefined, true);
  const oandaAccount = read(env, 'OANDA_ACCOUNT_ID', optionalText, undefined);
  if (provider === 'oanda' && (oandaToken === undefined || oandaAccount === undefined)) {
    throw new ConfigError(oandaToken === undefined ? 'OANDA_API_TOKEN' : 'OANDA_ACCOUNT_ID', 'is required when MARKET_DATA_PROVIDER=oanda');
  }
  // What the Authenticator can match (`Bearer <token>`, at most 512 characters, no space); node
  // reads header bytes as Latin-1, so a non-ASCII token would never match its UTF-8 bytes either.
  const adminApiToken = read(
    env,
    'ADMIN_API_TOKEN',
    z
      .string()
      .min(16, 'must be at least 16 characters long')
      .max(MAX_BEARER_TOKEN_LENGTH, `must be at most ${MAX_BEARER_TOKEN_LENGTH} characters long`)
      .regex(/^[\x21-\x7e]*$/, 'must be printable ASCII without spaces (it is sent as "Authorization: Bearer <token>")')
      .optional(),
    undefined,
    true,
  );

  const config: Config = {
    nodeEnv,
    http: {
      host: read(env, 'HOST', z.string().min(1), '0.0.0.0'),
      port: read(env, 'PORT', integer(0, 65_535), '4000'),
      bodyLimitBytes: read(env, 'HTTP_BODY_LIMIT_BYTES', integer(1024, 10 * 1024 ** 2), String(100 * 1024)),
      // 8 KiB: what CDNs and proxies commonly accept in a request line (Varnish's default http_req_hdr_len).
      getMaxUrlBytes: read(env, 'GET_MAX_URL_BYTES', integer(256, 64 * 1024), '8192'),
      corsOrigins: read(
        env,
        'CORS_ORIGINS',
        commaList.pipe(z.array(z.url({ protocol: /^https?$/ }))),
        '',
      ),
      ...readHttpTimeouts(env),
      trustedProxies: read(env, 'TRUSTED_PROXIES', commaList.pipe(z.array(addressOrRange)), ''),
    },
    graphql: {
      maxDepth: read(env, 'GRAPHQL_MAX_DEPTH', integer(1, 100), '8'),
      maxAliases: read(env, 'GRAPHQL_MAX_ALIASES', integer(0, 1000), '15'),
      maxDirectives: read(env, 'GRAPHQL_MAX_DIRECTIVES', integer(0, 1000), '50'),
      maxCost: read(env, 'GRAPHQL_MAX_COST', integer(1, 10_000_000), '5000'),
      maxTokens: read(env, 'GRAPHQL_MAX_TOKENS', integer(10, 1_000_000), '1000'),
      introspection: read(env, 'GRAPHQL_INTROSPECTION', booleanText, nodeEnv === 'production' ? 'false' : 'true'),
    },
    persistedDocuments: {
      manifestPaths: read(env, 'PERSISTED_DOCUMENTS', commaList, ''),
      mode: read(env, 'PERSISTED_DOCUMENTS_MODE', z.enum(['allow', 'log-unknown', 'require']), 'allow'),
      apqTtlSeconds: read(env, 'APQ_TTL_SECONDS', integer(1, 31_536_000), '86400'),
    },
    rateLimit: readRateLimit(env),
    logLevel: read(env, 'LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
    database: {
      url: read(env, 'DATABASE_URL', z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(), undefined),
      // Kept on disk only for `npm start` on a workstation: tests want a fresh database each, and
      // several processes must never share one directory.
      embeddedDataDir: read(
        env,
        'PGLITE_DATA_DIR',
        z.string().min(1).transform((text) => (text === IN_MEMORY ? undefined : text)),
        nodeEnv === 'development' ? '.data/pglite' : IN_MEMORY,
      ),
      embeddedSharedBuffersBytes: read(env, 'PGLITE_SHARED_BUFFERS_BYTES', integer(1024 ** 2, 1024 ** 3), String(16 * 1024 ** 2)),
      poolSize: read(env, 'DATABASE_POOL_SIZE', integer(1, 100), '10'),
      seedDemoData: read(env, 'SEED_DEMO_DATA', booleanText, nodeEnv === 'production' ? 'false' : 'true'),
    },
    redis: {
      topology: readRedisTopology(env),
      password: read(env, 'REDIS_PASSWORD', optionalText, undefined, true),
      db: read(env, 'REDIS_DB', integer(0, 15), '0'),
      poolSize: read(env, 'REDIS_POOL_SIZE', integer(1, 100), '10'),
      // The seed gives REDIS_TIMEOUT in seconds; fractions are allowed so that a short timeout can be set.
      timeoutMs: Math.round(read(env, 'REDIS_TIMEOUT', seconds.max(60), '5') * 1000),
      retryOnTimeout: read(env, 'REDIS_RETRY_ON_TIMEOUT', booleanText, 'true'),
      healthCheckIntervalMs: read(env, 'REDIS_HEALTH_CHECK_INTERVAL_MS', integer(50, 60_000), '1000'),
      maxReconnectDelayMs: read(env, 'REDIS_MAX_RECONNECT_DELAY_MS', integer(50, 60_000), '5000'),
    },
    cache: {
      enabled: read(env, 'CACHE_ENABLED', booleanText, 'true'),
      keyPrefix: read(env, 'CACHE_KEY_PREFIX', z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -'), 'ai_trading'),
      ttlSeconds: {
        short: read(env, 'CACHE_TTL_SHORT', integer(1, 31_536_000), '300'),
        medium: read(env, 'CACHE_TTL_MEDIUM', integer(1, 31_536_000), '1800'),
        long: read(env, 'CACHE_TTL_LONG', integer(1, 31_536_000), '3600'),
        veryLong: read(env, 'CACHE_TTL_VERY_LONG', integer(1, 31_536_000), '86400'),
      },
      priceTtlSeconds: read(env, 'CACHE_TTL_PRICE', integer(1, 3_600), '60'),
      fallbackMaxItems: read(env, 'CACHE_FALLBACK_MAX_ITEMS', integer(1, 10_000_000), '1000'),
      fallbackMaxBytes: read(env, 'CACHE_FALLBACK_MAX_BYTES', integer(1024, 8 * 1024 ** 3), String(64 * 1024 ** 2)),
      fleetFlightWaitMs: read(env, 'CACHE_FLIGHT_WAIT_MS', integer(0, 60_000), '3000'),
      busAckTimeoutMs: read(env, 'CACHE_BUS_ACK_TIMEOUT_MS', integer(10, 60_000), '1000'),
      busMemberLeaseMs: read(env, 'CACHE_BUS_MEMBER_LEASE_MS', integer(300, 600_000), '3000'),
      warming: {
        enabled: read(env, 'CACHE_WARMING_ENABLED', booleanText, 'true'),
        intervalSeconds: read(env, 'CACHE_WARMING_INTERVAL', integer(1, 86_400), '300'),
        maxConcurrent: read(env, 'CACHE_WARMING_MAX_CONCURRENT', integer(1, 100), '5'),
      },
    },
    responseCache: {
      enabled: read(env, 'RESPONSE_CACHE_ENABLED', booleanText, 'true'),
      nearEnabled: read(env, 'RESPONSE_CACHE_NEAR_ENABLED', booleanText, 'true'),
      nearMaxBytes: read(env, 'RESPONSE_CACHE_NEAR_MAX_BYTES', integer(1024, 8 * 1024 ** 3), String(32 * 1024 ** 2)),
      nearMaxTtlSeconds: read(env, 'RESPONSE_CACHE_NEAR_MAX_TTL_SECONDS', integer(1, 86_400), '30'),
      hints: new Map(Object.entries(read(env, 'RESPONSE_CACHE_HINTS', hintsJson, '{}'))),
    },
    adminApiToken,
    playground: { enabled: read(env, 'PLAYGROUND_ENABLED', booleanText, nodeEnv === 'production' ? 'false' : 'true') },
    opsConsole: { enabled: read(env, 'OPS_CONSOLE_ENABLED', booleanText, nodeEnv === 'production' ? 'false' : 'true') },
    cacheMonitor: {
      intervalSeconds: read(env, 'CACHE_MONITOR_INTERVAL_SECONDS', integer(1, 86_400), '60'),
      minHitRatePercent: read(env, 'CACHE_ALERT_MIN_HIT_RATE', percent, '90'),
      maxErrorRatePercent: read(env, 'CACHE_ALERT_MAX_ERROR_RATE', percent, '1'),
      minOperations: read(env, 'CACHE_ALERT_MIN_OPERATIONS', integer(1, 1_000_000_000), '100'),
    },
    marketData: {
      provider,
      simulatedLatencyMs: read(env, 'MARKET_SIM_LATENCY_MS', integer(0, 60_000), '0'),
      timeoutMs: read(env, 'MARKET_DATA_TIMEOUT_MS', integer(1, 60_000), '2000'),
      maxRetries: read(env, 'MARKET_DATA_MAX_RETRIES', integer(0, 10), '2'),
      retryBaseDelayMs: read(env, 'MARKET_DATA_RETRY_BASE_MS', integer(0, 10_000), '100'),
      staleIfErrorSeconds: read(env, 'MARKET_STALE_IF_ERROR_SECONDS', integer(0, 86_400), '300'),
      staleAfterMs: read(env, 'MARKET_STALE_AFTER_MS', integer(0, 60_000), '500'),
      breaker: {
        failureThreshold: read(env, 'MARKET_BREAKER_FAILURE_THRESHOLD', integer(1, 1_000), '5'),
        openMs: read(env, 'MARKET_BREAKER_OPEN_MS', integer(100, 3_600_000), '10000'),
      },
      oanda: {
        apiUrl: read(env, 'OANDA_API_URL', z.url({ protocol: /^https?$/ }), 'https://api-fxpractice.oanda.com'),
        // OANDA serves its streams from their own hosts (stream-fxtrade for live accounts).
        streamUrl: read(env, 'OANDA_STREAM_URL', z.url({ protocol: /^https?$/ }), 'https://stream-fxpractice.oanda.com'),
        apiToken: oandaToken,
        accountId: oandaAccount,
      },
    },
    live: {
      enabled: read(env, 'SUBSCRIPTIONS_ENABLED', booleanText, 'true'),
      wsInitTimeoutMs: read(env, 'WS_INIT_TIMEOUT_MS', integer(100, 60_000), '3000'),
      authRecheckMs: read(env, 'SUBSCRIPTION_AUTH_RECHECK_MS', integer(100, 3_600_000), '5000'),
      replaySeconds: read(env, 'SUBSCRIPTION_REPLAY_SECONDS', integer(0, 7 * 86_400), '300'),
      maxQueuedEvents: read(env, 'SUBSCRIPTION_MAX_QUEUED_EVENTS', integer(1, 100_000), '256'),
      maxSubscriptionsPerConnection: read(env, 'SUBSCRIPTION_MAX_PER_CONNECTION', integer(1, 10_000), '50'),
      maxConnectionsPerViewer: read(env, 'SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER', integer(1, 1_000_000), '50'),
      streamLeaseMs: read(env, 'MARKET_STREAM_LEASE_MS', integer(500, 600_000), '10000'),
      streamHeartbeatTimeoutMs: read(env, 'MARKET_STREAM_HEARTBEAT_TIMEOUT_MS', integer(100, 600_000), '10000'),
      simulatedTicksPerSecond: read(env, 'MARKET_SIM_TICKS_PER_SECOND', z.coerce.number().min(0.01).max(1_000), '4'),
    },
    cdn: {
      sMaxAgeSeconds: read(env, 'CDN_S_MAXAGE_SECONDS', integer(0, 31_536_000).optional(), undefined),
      staleWhileRevalidateSeconds: read(env, 'CDN_STALE_WHILE_REVALIDATE_SECONDS', integer(0, 31_536_000).optional(), undefined),
      surrogateKeyHeader: read(env, 'CDN_SURROGATE_KEY_HEADER', z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, 'must be a header name (letters, digits, -)'), 'Surrogate-Key'),
      // Half of Varnish's default http_resp_hdr_len (8 KiB); Fastly and Cloudflare take 16 KiB.
      surrogateKeyMaxBytes: read(env, 'CDN_SURROGATE_KEY_MAX_BYTES', integer(256, 65_536), '4096'),
      purgeUrl: read(env, 'CDN_PURGE_URL', z.url({ protocol: /^https?$/ }).optional(), undefined),
      purgeBatchMs: read(env, 'CDN_PURGE_BATCH_MS', integer(0, 10_000), '0'),
      purgeTimeoutMs: read(env, 'CDN_PURGE_TIMEOUT_MS', integer(100, 60_000), '2000'),
      purgeMaxPendingTags: read(env, 'CDN_PURGE_MAX_PENDING_TAGS', integer(1, 1_000_000), '10000'),
      purgeMaxRetryDelayMs: read(env, 'CDN_PURGE_MAX_RETRY_DELAY_MS', integer(100, 600_000), '30000'),
    },
    tracing: readTracing(env),
  };
  return deepFreeze(config);
}

const hostPortList = commaList.pipe(
    z
      .array(
        z
          .string()
          .regex(/^[^\s:]+:\d{1,5}$/, 'must list host:port pairs separated by commas')
          .transform((item): HostPort => ({ host: item.slice(0, item.lastIndexOf(':')), port: Number(item.slice(item.lastIndexOf(':') + 1)) })),
      )
      .min(1, 'must name at least one host:port'),
  )
  .optional();

/** REDIS_CLUSTER_NODES and REDIS_SENTINELS each replace REDIS_URL; naming both is a mistake worth stopping for. */
function readRedisTopology(env: Env): RedisTopology {
  const url = read(env, 'REDIS_URL', z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'), 'redis://localhost:6379');
  const clusterNodes = read(env, 'REDIS_CLUSTER_NODES', hostPortList, undefined);
  const sentinels = read(env, 'REDIS_SENTINELS', hostPortList, undefined);
  const masterName = read(env, 'REDIS_SENTINEL_NAME', z.string().min(1), 'mymaster');
  const sentinelPassword = read(env, 'REDIS_SENTINEL_PASSWORD', optionalText, undefined, true);
  if (clusterNodes !== undefined && sentinels !== undefined) throw new ConfigError('REDIS_CLUSTER_NODES', 'cannot be combined with REDIS_SENTINELS: choose one topology');
  if (clusterNodes !== undefined) {
    if (env.REDIS_DB !== undefined && env.REDIS_DB !== '' && env.REDIS_DB !== '0') throw new ConfigError('REDIS_DB', 'must be 0 with REDIS_CLUSTER_NODES: a Redis Cluster has database 0 only');
    return { kind: 'cluster', nodes: clusterNodes };
  }
  if (sentinels !== undefined) return { kind: 'sentinel', sentinels, masterName, sentinelPassword };
  return { kind: 'standalone', url };
}

/** RATE_LIMIT_*: budgets per kind of viewer. */
function readRateLimit(env: Env): Config['rateLimit'] {
  // Spelled out rather than built from a prefix, so that the tests that list what this file reads find each name.
  const user = { costPerMinute: read(env, 'RATE_LIMIT_COST_PER_MINUTE', integer(1, 1_000_000_000), '30000'), burstCost: read(env, 'RATE_LIMIT_BURST_COST', integer(1, 1_000_000_000), '10000') };
  const anonymous = {
    costPerMinute: read(env, 'RATE_LIMIT_ANONYMOUS_COST_PER_MINUTE', integer(1, 1_000_000_000), '6000'),
    burstCost: read(env, 'RATE_LIMIT_ANONYMOUS_BURST_COST', integer(1, 1_000_000_000), '5000'),
  };
  // 0: the admin (operators, warming scripts) is exempt.
  const adminPerMinute = read(env, 'RATE_LIMIT_ADMIN_COST_PER_MINUTE', integer(0, 1_000_000_000), '0');
  const adminBurst = read(env, 'RATE_LIMIT_ADMIN_BURST_COST', integer(1, 1_000_000_000), '10000');
  return {
    enabled: read(env, 'RATE_LIMIT_ENABLED', booleanText, 'false'),
    user,
    anonymous,
    admin: adminPerMinute === 0 ? undefined : { costPerMinute: adminPerMinute, burstCost: adminBurst },
    hitCostPercent: read(env, 'RATE_LIMIT_HIT_COST_PERCENT', z.coerce.number().min(0).max(100), '10'),
    leaseMaxCost: read(env, 'RATE_LIMIT_LEASE_MAX_COST', integer(1, 1_000_000), '1000'),
    redisTimeoutMs: read(env, 'RATE_LIMIT_REDIS_TIMEOUT_MS', integer(1, 60_000), '100'),
  };
}

/** `10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`: an address, or a range in CIDR notation. */
const addressOrRange = z.string().refine((item) => {
  const slash = item.indexOf('/');
  const address = slash === -1 ? item : item.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const bits = item.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}, 'must list IP addresses or CIDR ranges (10.0.0.0/8, fd00::/8) separated by commas');

/** Slow clients (a body dripped byte by byte, headers and then nothing) must not hold a connection for ever. */
function readHttpTimeouts(env: Env): Pick<Config['http'], 'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs'> {
  const requestTimeoutMs = read(env, 'HTTP_REQUEST_TIMEOUT_MS', integer(100, 3_600_000), '30000');
  const headersTimeoutMs = read(env, 'HTTP_HEADERS_TIMEOUT_MS', integer(100, 3_600_000), '10000');
  // Node refuses a headers timeout longer than the request timeout it is part of.
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  // Longer than the 60 s idle timeout of common load balancers, so that the gateway never closes a connection one is about to reuse.
  const keepAliveTimeoutMs = read(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', integer(100, 3_600_000), '72000');
  return { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs };
}

/**
 * `key=value,key=value` with percent-encoded values, as OTEL_EXPORTER_OTLP_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES spell them.
 */
const keyValueList = commaList.transform((items, context) => {
  const pairs: Record<string, string> = {};
  // The messages name items by position, never by content: headers hold secrets.
  for (const [index, item] of items.entries()) {
    const equals = item.indexOf('=');
    const key = equals === -1 ? '' : item.slice(0, equals).trim();
    if (key === '') {
      context.addIssue({ code: 'custom', message: `item ${index + 1} is not key=value` });
      return z.NEVER;
    }
    try {
      pairs[key] = decodeURIComponent(item.slice(equals + 1).trim());
    } catch {
      context.addIssue({ code: 'custom', message: `the value of item ${index + 1} is not percent-encoded correctly` });
      return z.NEVER;
    }
  }
  return pairs;
});

/**
 * The standard OpenTelemetry variables, read here and passed to the SDK explicitly (so the SDK's
 * own environment defaults never decide anything). Tracing is on only with an OTLP endpoint.
 */
function readTracing(env: Env): TracingConfig | undefined {
  const httpUrl = z.url({ protocol: /^https?$/ }).optional();
  const base = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', httpUrl, undefined);
  const traces = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', httpUrl, undefined);
  const headers = read(env, 'OTEL_EXPORTER_OTLP_HEADERS', keyValueList, '', true);
  const serviceName = read(env, 'OTEL_SERVICE_NAME', z.string().min(1), 'trading-gateway');
  const resourceAttributes = read(env, 'OTEL_RESOURCE_ATTRIBUTES', keyValueList, '');
  const kind = read(
    env,
    'OTEL_TRACES_SAMPLER',
    z.enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']),
    'parentbased_always_on',
  );
  const ratio = read(env, 'OTEL_TRACES_SAMPLER_ARG', z.coerce.number().min(0).max(1), '1');
  const exportDelayMs = read(env, 'OTEL_BSP_SCHEDULE_DELAY', integer(1, 600_000), '5000');
  // gRPC is not offered: an endpoint for it would get HTTP, so the value is refused rather than ignored.
  const protocols = z.enum(['http/protobuf', 'http/json']);
  const protocol = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', protocols.optional(), undefined) ?? read(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', protocols, 'http/protobuf');
  // The base endpoint is a collector's root: the signal's path is appended (the OTLP exporter specification).
  const tracesUrl = traces ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`);
  if (tracesUrl === undefined) return undefined;
  return { tracesUrl, headers, serviceName, resourceAttributes, sampler: { kind, ratio }, exportDelayMs, protocol };
}

/** Parses the process environment over `.env` (when present): a variable set in the environment wins. */
export function loadConfigFromProcess(envFile = '.env'): Config {
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile, 'utf8')) : {};
  return loadConfig({ ...fromFile, ...process.env });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
