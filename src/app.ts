import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { type GraphQLSchema, printSchema, specifiedRules } from 'graphql';

import { CacheMonitor } from './cache/cache-monitor';
import { type Cache, createCache } from './cache/create-cache';
import { SqlSharedJournal } from './cache/shared-journal';
import { createCdn } from './cdn/create-cdn';
import type { Config } from './config';
import { Database, type SqlDriver } from './db/database';
import { migrate } from './db/migrations';
import { PgDriver } from './db/pg-driver';
import { PgliteDriver } from './db/pglite-driver';
import { seedDemoData } from './demo/demo-data';
import { createErrorFormatter, maskedErrorsPlugin } from './graphql/format-error';
import { documentCheck } from './graphql/persisted/document-check';
import { loadManifests } from './graphql/persisted/manifests';
import { PersistedDocuments } from './graphql/persisted/persisted-documents';
import { ResponsePolicy, responsePolicyPlugin, showsPrivateData } from './graphql/response-cache/cache-policy';
import { entityTagger } from './graphql/response-cache/entity-tagger';
import { ResponseCache } from './graphql/response-cache/response-cache';
import { StaleReads, staleReadsPlugin } from './graphql/stale-reads';
import { type LiveEndpoints, subscriptionsElsewherePlugin } from './graphql/subscriptions-elsewhere';
import { queryCostPlugin, queryLimitsRule } from './graphql/query-limits';
import { CorsPolicy, EXPOSED_HEADERS, registerCors } from './http/cors';
import { CachedAnswers, type Identified } from './http/cached-answers';
import { registerGraphqlRoute } from './http/graphql-route';
import { HitFront } from './http/hit-front';
import { registerHealthRoutes } from './http/health-routes';
import { PLAYGROUND_ASSET_PATH, PLAYGROUND_HTML_HEADERS, PLAYGROUND_REQUEST_HEADER, playgroundHtml, registerPlayground, wantsPlayground } from './http/playground';
import { RememberedRequests } from './http/remembered-requests';
import { ClientAddresses } from './http/client-address';
import { RateLimitGate, type RatePolicies } from './http/rate-limit-gate';
import { QueryCosts } from './graphql/query-costs';
import { LocalBudgets } from './rate-limit/local-budgets';
import { RateLimiter } from './rate-limit/rate-limiter';
import { RedisBudgets } from './rate-limit/redis-budgets';
import { APPLICATION_JSON } from './http/response-media-type';
import { INTERNAL_ERROR_BODY } from './http/stored-answer';
import { EventLog } from './live/event-log';
import { GraphqlWsServer } from './live/graphql-ws-server';
import { LiveBus } from './live/live-bus';
import { LiveGate } from './live/live-gate';
import { LiveHub } from './live/live-hub';
import { LiveRequests } from './live/live-requests';
import { registerSseRoute } from './live/sse-route';
import type { Logger } from './logger';
import { CircuitBreaker } from './market/circuit-breaker';
import { DEMO_INSTRUMENTS } from './market/instruments';
import { LastKnownValues, StaleIfErrorStats } from './market/last-known';
import { ListedInstrumentsProvider } from './market/listed-instruments.provider';
import { isUpstreamFault, type MarketDataProvider, UpstreamStats } from './market/market-data.provider';
import { MarketLive } from './market/market.live';
import type { StreamReport } from './market/quote-stream-leader';
import { MarketService } from './market/market.service';
import { QuoteStreamLeader } from './market/quote-stream-leader';
import { MARKET_TAGS } from './market/market.resolver';
import { marketDataWarming } from './market/market.warming';
import { OandaMarketDataProvider } from './market/oanda.provider';
import { SimulatedMarketDataProvider } from './market/simulated.provider';
import { TracedMarketDataProvider } from './market/traced-market-data.provider';
import { CacheAdminService } from './operator/cache-admin.service';
import { OPS_CONSOLE_PATH, registerOpsConsole } from './operator/ops-console.routes';
import { registerOpsRoutes } from './operator/ops.routes';
import { createMetricsRegistry, HttpMetrics, instrumentHttp, registerCdnPurgerMetrics, registerLiveMetrics, registerRateLimitMetrics, registerMemoryMetrics, registerWarmingMetrics } from './operator/prometheus';
import { createLoaders, type RequestContext } from './request-context';
import { buildGatewaySchema, buildTypesOnlySchema } from './schema';
import { Authenticator } from './sessions/authenticator';
import { SessionsRepository } from './sessions/sessions.repository';
import { SessionsService } from './sessions/sessions.service';
import { SIGNAL_TAGS } from './signals/signal.resolver';
import { SignalsRepository } from './signals/signals.repository';
import { SignalEvents } from './signals/signal-events';
import { SignalsService } from './signals/signals.service';
import { ANONYMOUS, type Viewer } from './sessions/viewer';
import { signalsWarming, statisticsWarming } from './signals/signals.warming';
import { USER_TAGS } from './users/user.resolver';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';
import { userDataWarming } from './users/users.warming';
import { WarmingService } from './warming/warming.service';
import { operationSpanPlugin } from './tracing/operation-span-plugin';
import { RequestSpans } from './tracing/request-spans';
import { TracedAnswers } from './tracing/traced-answers';
import { TracedDriver } from './tracing/traced-driver';
import { tracedFetch } from './tracing/traced-fetch';
import { TracedFleetFlight } from './tracing/traced-fleet-flight';
import { TracedResponseCache } from './tracing/traced-response-cache';
import { TracedTier } from './tracing/traced-tier';
import { CHEAP_ASYNC_CONTEXT, createTracing } from './tracing/tracing';
import { tuneV8ForRequestLifetimes } from './v8-tuning';

/** A warming run that hangs releases its cross-instance lease after this long at most. */
const WARMING_LEASE_TTL_MS = 120_000;

/** Subscriptions: graphql-ws upgrades on the GraphQL path, SSE streams on a path of their own. */
const GRAPHQL_PATH = '/graphql';
const LIVE_ENDPOINTS: LiveEndpoints = { webSocketPath: GRAPHQL_PATH, ssePath: `${GRAPHQL_PATH}/stream` };
/** The code of a refusal by HTTP status, for those Fastify makes itself. */
const REFUSAL_CODES: Partial<Record<number, string>> = { 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/** The hit front reads POST bodies up to this size to see whether it knows them; GraphQL requests are far smaller, uploads are not its business. */
const REMEMBERED_BODY_MAX_BYTES = 64 * 1024;

export interface Gateway {
  readonly http: FastifyInstance;
  readonly db: Database;
  readonly cache: Cache;
  readonly warming: WarmingService;
  readonly upstream: UpstreamStats;
  readonly responseCache: ResponseCache | undefined;
  /** The seed's cache monitor (CACHE_MONITOR_INTERVAL_SECONDS): started by listen, stopped by close. */
  readonly monitor: CacheMonitor;
  /** The executable schema and its per-request context, for embedding it in another server (the benchmark's baselines do). */
  readonly graphql: { readonly schema: GraphQLSchema; contextFor(authorization: string | undefined): Promise<RequestContext> };
  /** Subscriptions (SUBSCRIPTIONS_ENABLED): what this instance serves, and its part in the fleet's price stream. */
  readonly live: { readonly hub: LiveHub<Viewer>; stream(): StreamReport } | undefined;
  /** Listens on the configured host and port, then starts warming; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, then closes the cache and the store. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /**
   * The clock of the market-data circuit breaker and of the stale-if-error window (ms since the
   * epoch; default Date.now). Tests move it instead of waiting out a cooldown.
   */
  readonly now?: () => number;
}

/** The composition root: every long-lived object is built here and handed to what uses it. */
export async function createGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const startedAtMs = Date.now();
  tuneV8ForRequestLifetimes();
  // First: a manifest naming a wrong or invalid document stops start-up, naming it, before anything is opened.
  const { manifestPaths } = config.persistedDocuments;
  const documentRules = [...specifiedRules, queryLimitsRule(config.graphql)];
  const manifests = manifestPaths.length === 0 ? new Map<string, string>() : loadManifests(manifestPaths, documentCheck(await buildTypesOnlySchema(), documentRules, config.graphql.maxTokens));
  // Tracing (OTEL_EXPORTER_OTLP_ENDPOINT) wraps what does the work in traced versions of itself;
  // without it, nothing below differs from an untraced gateway.
  const tracing = config.tracing === undefined ? undefined : createTracing(config.tracing);
  if (tracing !== undefined && !CHEAP_ASYNC_CONTEXT) logger.warn({ node: process.version }, 'tracing on a Node.js before 24 costs every request about a fifth more CPU (async_hooks); run Node.js 24, as the image does');
  const driver = await createDriver(config, logger);
  const db = new Database(tracing === undefined ? driver : new TracedDriver(driver, tracing));
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (config.database.seedDemoData && (await seedDemoData(db))) logger.info('demo data generated');
  } catch (error) {
    await db.close();
    throw error;
  }

  const cache = createCache(config, logger, {
    wrappers: tracing === undefined ? undefined : { tier: (tier) => new TracedTier(tier, tracing), fleet: (flight) => new TracedFleetFlight(flight, tracing) },
    // The journal's statements are the cache's housekeeping: counted apart from the requests' (a Database of their own).
    sharedJournal: (keys) => new SqlSharedJournal(new Database(driver), config.cache.keyPrefix, { kind: 'pattern', pattern: keys.allPattern() }, config.database.url !== undefined),
  });
  await cache.start();
  const { service: cacheService, keys, invalidator } = cache;
  // Live events (subscriptions) travel through Redis beside the cache: ticks and signal events to every instance.
  const liveBus = config.live.enabled ? new LiveBus({ channel: keys.live('channel'), maxReconnectDelayMs: config.redis.maxReconnectDelayMs }, cache.connections.subscriber, cache.connections.pick, logger) : undefined;
  await liveBus?.start();
  const signalEvents =
    liveBus === undefined
      ? undefined
      : new SignalEvents(
          new EventLog(
            { streamKey: keys.live('events'), topic: 'signals', retentionSeconds: config.live.replaySeconds, maxReplay: config.live.maxQueuedEvents, available: () => cache.scripts.available() },
            liveBus,
            cache.connections.pick,
            logger,
          ),
        );
  const httpClient = tracing === undefined ? fetch : tracedFetch(tracing);
  const cdn = createCdn(config.cdn, cacheService, keys.graphqlResponsesPattern(), logger, httpClient);

  const upstream = new UpstreamStats();
  // The instruments this gateway serves (the ones the demo data, warming and signals cover): what
  // "the feed lists" means in the schema. An instrument outside them never reaches the provider.
  const symbols = DEMO_INSTRUMENTS.map((instrument) => instrument.symbol);
  const listed: ReadonlySet<string> = new Set(symbols);
  const untracedProvider = createMarketDataProvider(config, upstream, httpClient);
  const provider = new ListedInstrumentsProvider(tracing === undefined ? untracedProvider : new TracedMarketDataProvider(untracedProvider, tracing), listed);
  const usersRepository = new UsersRepository(db);
  const users = new UsersService(usersRepository, cacheService, keys, invalidator);
  const signals = new SignalsService(new SignalsRepository(db), usersRepository, cacheService, keys, invalidator, symbols, signalEvents);
  const now = options.now ?? Date.now;
  const breaker = new CircuitBreaker(provider.name, {
    ...config.marketData.breaker,
    now,
    // Only the provider's own failures (after its retries) say the upstream is unwell, and a
    // refused request (a 4xx other than 401, 403, 429) does not: see isUpstreamFault.
    isFailure: isUpstreamFault,
    onStateChange(from, to) {
      if (to === 'open') logger.warn({ provider: provider.name, from, to }, 'market data: circuit breaker opened, calls fail fast');
      else logger.info({ provider: provider.name, from, to }, 'market data: circuit breaker state changed');
    },
  });
  const lastKnown = new LastKnownValues(cacheService, { graceSeconds: config.marketData.staleIfErrorSeconds, now }, new StaleIfErrorStats());
  const market = new MarketService(provider, cacheService, keys, config.cache.priceTtlSeconds, breaker, lastKnown, config.marketData.staleAfterMs);
  const marketLive = liveBus === undefined ? undefined : createMarketLive(config, market, provider, listed, liveBus, cache, logger);
  const warming = new WarmingService(
    [userDataWarming(users, signals), signalsWarming(signals, symbols), marketDataWarming(market, symbols), statisticsWarming(signals, symbols)],
    cache.leases,
    keys.lease('warming'),
    { ...config.cache.warming, leaseTtlMs: WARMING_LEASE_TTL_MS },
    logger,
  );
  // The response cache needs the schema, which needs this service: its counters are read at request time.
  const sessions = new SessionsService(new SessionsRepository(db), cacheService, keys);
  const admin = new CacheAdminService(cacheService, invalidator, warming, () => responseCache?.metrics(), sessions);
  const authenticator = new Authenticator(sessions, adminToken(config, logger));

  const schema = await buildGatewaySchema({ users, signals, market, admin, sessions });
  const responseCacheOptions = {
    nearEnabled: config.responseCache.nearEnabled,
    nearMaxBytes: config.responseCache.nearMaxBytes,
    nearMaxTtlSeconds: config.responseCache.nearMaxTtlSeconds,
    schemaVersion: createHash('sha256').update(printSchema(schema)).digest('hex').slice(0, 16),
    maxTokens: config.graphql.maxTokens,
  };
  const responseCache = !config.responseCache.enabled
    ? undefined
    : tracing === undefined
      ? new ResponseCache(cacheService, keys, responseCacheOptions)
      : new TracedResponseCache(tracing, cacheService, keys, responseCacheOptions);
  const persisted = new PersistedDocuments(manifests, cacheService, keys, { ...config.persistedDocuments, check: documentCheck(schema, documentRules, config.graphql.maxTokens) }, logger);
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError: createErrorFormatter(),
    includeStacktraceInErrorResponses: false,
    introspection: config.graphql.introspection,
    // Without introspection, "did you mean …" suggestions would leak the schema field by field.
    hideSchemaDetailsFromClientErrors: !config.graphql.introspection,
    validationRules: [queryLimitsRule(config.graphql)],
    parseOptions: { maxTokens: config.graphql.maxTokens },
    allowBatchedHttpRequests: false,
    // Persisted documents (listed and registered) are resolved by the GraphQL route before
    // Apollo sees the request (PersistedDocuments): Apollo always gets the text.
    persistedQueries: false,
    csrfPrevention: true,
    // main.ts owns SIGTERM; a second stop() from Apollo's own handler never resolves in 5.5.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Replaced by responsePolicyPlugin, which also reads hints by schema coordinate and tags entities.
      ApolloServerPluginCacheControlDisabled(),
      responsePolicyPlugin<RequestContext>({ overrides: config.responseCache.hints, tagger: entityTagger([USER_TAGS, SIGNAL_TAGS, MARKET_TAGS]) }),
      staleReadsPlugin<RequestContext>(),
      subscriptionsElsewherePlugin<RequestContext>(config.live.enabled ? LIVE_ENDPOINTS : undefined),
      queryCostPlugin<RequestContext>(config.graphql),
      maskedErrorsPlugin<RequestContext>(logger),
      ...(tracing === undefined ? [] : [operationSpanPlugin<RequestContext>(tracing)]),
    ],
    logger,
  });
  await apollo.start();

  const metrics = createMetricsRegistry({ cache: cacheService, cacheFamilies: cache.families, db, upstream, upstreamProvider: provider.name, responseCache, persisted, market });
  const httpMetrics = new HttpMetrics(metrics);
  const cors = new CorsPolicy(config.http.corsOrigins);
  const requestId = requestIds();
  const remembered = new RememberedRequests();
  const rateLimits = createRateLimits(config, cache, logger, now);
  const contextOf = (viewer: Viewer, requestId: string): RequestContext => {
    const staleReads = new StaleReads();
    return { viewer, requestId, staleReads, loaders: createLoaders({ users, signals, market }, staleReads) };
  };
  const identifiedAs = (viewer: Viewer): Identified<RequestContext> => ({
    identity: identityOf(viewer),
    context: (id) => ({ ...contextOf(viewer, id), responsePolicy: new ResponsePolicy() }),
  });
  const anonymous = identifiedAs(ANONYMOUS);
  /** No credentials is the anonymous viewer (Authenticator's rule), known without a lookup; a refused token rejects. */
  const identify = (authorization: string | undefined) => (authorization === undefined ? anonymous : authenticator.authenticate(authorization).then(identifiedAs));
  const answers = responseCache === undefined ? undefined : tracing === undefined ? new CachedAnswers(apollo, responseCache) : new TracedAnswers(tracing, apollo, responseCache);
  const requestSpans = tracing === undefined ? undefined : new RequestSpans(tracing, GRAPHQL_PATH);
  const front =
    answers === undefined
      ? undefined
      : new HitFront({
          path: GRAPHQL_PATH,
          answers,
          remembered,
          persisted,
          identify,
          cdnHeaders: cdn.headers,
          cors,
          wantsPlayground: config.playground.enabled ? wantsPlayground : undefined,
          requestId,
          metrics: httpMetrics,
          maxBodyBytes: Math.min(config.http.bodyLimitBytes, REMEMBERED_BODY_MAX_BYTES),
          rateLimits: rateLimits?.gate,
          logger,
          inRequestContext: tracing === undefined ? undefined : (listener) => tracing.bindActive(listener),
        });
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs } = config.http;
  const http = Fastify({
    bodyLimit: config.http.bodyLimitBytes,
    logger: false,
    genReqId: requestId,
    // node's server, with the hit front before Fastify's handler (Fastify then leaves the server's settings to this factory).
    serverFactory: (fastifyHandler) => {
      const handler = requestSpans === undefined ? fastifyHandler : requestSpans.fastify(fastifyHandler);
      const listener = front === undefined ? handler : front.listener(handler);
      const server = createServer(
        {
          // A client that sends its request too slowly gets 408 and its connection closed (the handler's own time does not count).
          requestTimeout: requestTimeoutMs,
          headersTimeout: headersTimeoutMs,
          // Node checks these deadlines every connectionsCheckingInterval (30 s by default): check often enough that they hold.
          connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeoutMs / 4))),
        },
        requestSpans === undefined ? listener : requestSpans.around(listener),
      );
      server.keepAliveTimeout = keepAliveTimeoutMs;
      return server;
    },
  });
  http.addHook('onSend', (request, reply, _payload, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  registerCors(http, cors);
  http.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      logger.error({ err: error }, 'unexpected error in HTTP handler');
      return reply.code(500).header('content-type', APPLICATION_JSON).send(INTERNAL_ERROR_BODY);
    }
    // Fastify's own refusals (a body that is not JSON, too large, of another type): never kept by
    // any cache, and on the GraphQL route in GraphQL's shape, as the gateway's other refusals are.
    const code = REFUSAL_CODES[status] ?? 'BAD_REQUEST';
    reply.code(status).header('cache-control', 'no-store');
    if (request.url.split('?', 1)[0] === GRAPHQL_PATH) return reply.send({ errors: [{ message: error.message, extensions: { code } }] });
    return reply.send({ error: { code, message: error.message } });
  });
  instrumentHttp(http, httpMetrics);
  if (cdn.purger !== undefined) registerCdnPurgerMetrics(metrics, cdn.purger);
  if (rateLimits !== undefined) registerRateLimitMetrics(metrics, rateLimits.limiter);
  registerWarmingMetrics(metrics, warming);
  registerMemoryMetrics(metrics, {
    embeddedDatabase: () => db.memoryBytes(),
    nearTier: () => responseCache?.metrics().near_bytes,
    dataFallbackTier: () => cache.memoryTierBytes(),
  });
  registerHealthRoutes(http, startedAtMs);
  if (config.playground.enabled) registerPlayground(http, { path: PLAYGROUND_ASSET_PATH });
  registerOpsRoutes(http, { admin, authenticator, cache: cacheService, db, metrics, market, cdnPurger: cdn.purger });
  const monitor = new CacheMonitor(() => cacheService.metrics.snapshot(), config.cacheMonitor, logger);
  if (config.opsConsole.enabled) {
    registerOpsConsole(http, { authenticator, stats: { metrics, cache: cacheService, responseCache: () => responseCache?.metrics(), market, warming, monitor } });
  }
  const live =
    liveBus === undefined || marketLive === undefined || signalEvents === undefined
      ? undefined
      : registerLiveTransports(http, config, logger, {
          bus: liveBus,
          schema,
          persisted,
          cors,
          rateLimits: rateLimits?.gate,
          contextFor: (viewer, lastEventId) => ({ ...contextOf(viewer ?? ANONYMOUS, requestId()), live: { market: marketLive.market, signals: signalEvents, lastEventId } }),
          viewers: {
            authenticate: (authorization) => authenticator.authenticate(authorization),
            identity: identityOf,
            stillValid: async (viewer) => viewer.kind !== 'user' || (await sessions.findUserIdByTokenHash(viewer.tokenHash)) === viewer.userId,
            trusted: (viewer) => viewer.kind === 'admin',
          },
        });
  if (live !== undefined && marketLive !== undefined) {
    registerLiveMetrics(metrics, { connections: () => live.ws.size, subscriptions: () => live.hub.size, counts: () => live.hub.stats, stream: () => marketLive.leader.report() });
  }
  registerGraphqlRoute<RequestContext>(http, {
    path: GRAPHQL_PATH,
    apollo,
    answers,
    cdnHeaders: cdn.headers,
    persisted,
    remembered,
    bodyReadBefore: (request) => front?.bodyOf(request),
    rateLimits: rateLimits?.gate,
    maxGetUrlBytes: config.http.getMaxUrlBytes,
    // The admin keeps free text under PERSISTED_DOCUMENTS_MODE=require, and so does the
    // playground outside production (it marks its requests; a mark anyone can set, hence not in production).
    trusted: (request, identity) => identity === 'admin' || (config.nodeEnv !== 'production' && config.playground.enabled && request.headers[PLAYGROUND_REQUEST_HEADER] === '1'),
    playground: config.playground.enabled ? { wants: wantsPlayground, html: () => playgroundHtml(PLAYGROUND_ASSET_PATH), headers: PLAYGROUND_HTML_HEADERS } : undefined,
    identify,
    logger,
  });

  return {
    http,
    db,
    cache,
    warming,
    upstream,
    responseCache,
    monitor,
    live: live === undefined || marketLive === undefined ? undefined : { hub: live.hub, stream: () => marketLive.leader.report() },
    graphql: {
      schema,
      async contextFor(authorization) {
        return contextOf(await authenticator.authenticate(authorization), randomBytes(8).toString('hex'));
      },
    },
    async listen() {
      const url = await http.listen({ host: config.http.host, port: config.http.port });
      logger.info({ url, database: config.database.url === undefined ? 'embedded' : 'postgres', marketData: provider.name }, 'gateway listening');
      if (config.opsConsole.enabled) logger.info({ url: `${url}${OPS_CONSOLE_PATH}` }, 'operator console (needs the admin token)');
      monitor.start();
      warming.start();
      marketLive?.leader.start();
      return url;
    },
    async close() {
      monitor.stop();
      warming.stop();
      // Live connections never end by themselves: ended here, so that the HTTP server can close.
      live?.ws.close();
      live?.sse.close();
      await marketLive?.leader.close();
      await http.close();
      await apollo.stop();
      // After the last request (its invalidations handed over): what the CDN has not taken gets one last attempt.
      await cdn.purger?.close();
      liveBus?.close();
      await cache.close();
      await db.close();
      // Last: the spans of everything above are exported before it returns.
      await tracing?.shutdown();
    },
  };
}

/** The fleet's one price stream (QuoteStreamLeader) and what turns its ticks into live events (MarketLive). */
function createMarketLive(
  config: Config,
  market: MarketService,
  provider: MarketDataProvider,
  listed: ReadonlySet<string>,
  bus: LiveBus,
  cache: Cache,
  logger: Logger,
): { market: MarketLive; leader: QuoteStreamLeader } {
  const leader = new QuoteStreamLeader(
    provider,
    cache.leases,
    cache.connections.pick,
    // Called only once the leader has started, after marketLive exists.
    (quote) => marketLive.onTick(quote),
    () => marketLive.announceWanted(),
    {
      leaseKey: cache.keys.lease('market-stream'),
      wantedKey: cache.keys.live('wanted'),
      leaseMs: config.live.streamLeaseMs,
      heartbeatTimeoutMs: config.live.streamHeartbeatTimeoutMs,
      maxReconnectDelayMs: config.redis.maxReconnectDelayMs,
      listed,
    },
    logger,
  );
  const marketLive = new MarketLive(market, bus, leader, logger, listed);
  return { market: marketLive, leader };
}

interface LiveParts {
  readonly bus: LiveBus;
  readonly schema: GraphQLSchema;
  readonly persisted: PersistedDocuments;
  readonly cors: CorsPolicy;
  readonly contextFor: (viewer: Viewer | undefined, lastEventId?: string) => RequestContext;
  readonly viewers: ConstructorParameters<typeof LiveGate<Viewer>>[0];
  readonly rateLimits: RateLimitGate | undefined;
}

/** Subscriptions over graphql-ws (upgrades on /graphql) and SSE (/graphql/stream), both fed by one LiveHub. */
function registerLiveTransports(http: FastifyInstance, config: Config, logger: Logger, parts: LiveParts): { ws: GraphqlWsServer<Viewer>; sse: { close(): void }; hub: LiveHub<Viewer> } {
  const formatter = createErrorFormatter();
  const hub = new LiveHub<Viewer>({
    schema: parts.schema,
    contextFor: parts.contextFor,
    showsPrivateData: (document) => showsPrivateData(parts.schema, document, config.responseCache.hints),
    formatErrors: (errors) =>
      errors.map((error) => {
        const formatted = formatter(error.toJSON(), error);
        if (formatted.extensions?.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.originalError ?? error }, 'live: unexpected error in a subscription');
        return formatted;
      }),
    logger,
  });
  parts.bus.onMessage((message) => hub.dispatch(message));
  const requests = new LiveRequests<Viewer>({
    schema: parts.schema,
    persisted: parts.persisted,
    validationRules: [...specifiedRules, queryLimitsRule(config.graphql)],
    limits: config.graphql,
    maxTokens: config.graphql.maxTokens,
    rateLimits: parts.rateLimits,
  });
  const gate = new LiveGate<Viewer>(parts.viewers, config.live.maxConnectionsPerViewer, parts.rateLimits);
  const addresses = new ClientAddresses(config.http.trustedProxies);
  const ws = new GraphqlWsServer<Viewer>({
    path: LIVE_ENDPOINTS.webSocketPath,
    hub,
    requests,
    gate,
    allowsOrigin: (origin, host) => parts.cors.allowOriginFor(origin) !== undefined || sameOrigin(origin, host),
    clientAddress: (request) => addresses.of(request),
    initTimeoutMs: config.live.wsInitTimeoutMs,
    authRecheckMs: config.live.authRecheckMs,
    maxSubscriptionsPerConnection: config.live.maxSubscriptionsPerConnection,
    maxQueuedEvents: config.live.maxQueuedEvents,
    logger,
  });
  ws.attach(http.server);
  const sse = registerSseRoute<Viewer>(http, {
    path: LIVE_ENDPOINTS.ssePath,
    hub,
    requests,
    gate,
    extraHeaders: (request) => {
      const origin = parts.cors.allowOriginFor(request.headers.origin);
      const headers: Record<string, string> = {};
      if (origin !== undefined) Object.assign(headers, { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'origin' });
      return headers;
    },
    clientAddress: (request) => addresses.of(request.raw),
    authRecheckMs: config.live.authRecheckMs,
    maxQueuedEvents: config.live.maxQueuedEvents,
  });
  return { ws, sse, hub };
}

/** A page served by this gateway itself (the playground) may open a socket to it. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Request ids: unique per process by a counter, across processes by a random prefix drawn once.
 * Measured: 8 random bytes per request cost a tenth of a cached hit's CPU (BENCHMARKS.md).
 */
function requestIds(): () => string {
  const prefix = randomBytes(6).toString('hex');
  let next = 0;
  return () => `${prefix}${(next++).toString(16).padStart(8, '0')}`;
}

/** Whose PRIVATE responses a request may see. */
function identityOf(viewer: Viewer): string {
  switch (viewer.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'admin':
      return 'admin';
    case 'user':
      return `user:${viewer.userId}`;
  }
}

/**
 * The admin token. Without one, admin operations are off in production; elsewhere a random
 * token is made for this run and logged, so that a developer can use the operator API at once.
 */
function adminToken(config: Config, logger: Logger): string | undefined {
  if (config.adminApiToken !== undefined || config.nodeEnv === 'production') {
    if (config.adminApiToken === undefined) logger.warn('ADMIN_API_TOKEN is not set: admin operations are disabled');
    return config.adminApiToken;
  }
  const token = randomBytes(24).toString('base64url');
  logger.warn({ adminToken: token }, 'ADMIN_API_TOKEN is not set: generated a token for this development run');
  return token;
}

/** Budgets of query cost per viewer (README: Rate limits), or `undefined` with RATE_LIMIT_ENABLED=false. */
function createRateLimits(config: Config, cache: Cache, logger: Logger, now: () => number): { readonly gate: RateLimitGate; readonly limiter: RateLimiter } | undefined {
  const { rateLimit } = config;
  if (!rateLimit.enabled) return undefined;
  const limiter = new RateLimiter(
    new RedisBudgets(cache.scripts, (viewer) => cache.keys.rateBudget(viewer)),
    new LocalBudgets(),
    { leaseMaxCost: rateLimit.leaseMaxCost, redisTimeoutMs: rateLimit.redisTimeoutMs, now },
    logger,
  );
  const policies: RatePolicies = {
    user: { name: 'user', ...rateLimit.user },
    anonymous: { name: 'anonymous', ...rateLimit.anonymous },
    admin: rateLimit.admin === undefined ? undefined : { name: 'admin', ...rateLimit.admin },
  };
  const gate = new RateLimitGate(limiter, policies, new ClientAddresses(config.http.trustedProxies), new QueryCosts(config.graphql, config.graphql.maxTokens), rateLimit.hitCostPercent);
  logger.info({ ...policies, admin: policies.admin ?? 'exempt', trustedProxies: config.http.trustedProxies }, 'rate limits: on, budgets of query cost per viewer');
  return { gate, limiter };
}

async function createDriver(config: Config, logger: Logger): Promise<SqlDriver> {
  if (config.database.url !== undefined) return new PgDriver({ url: config.database.url, poolSize: config.database.poolSize });
  const dataDir = config.database.embeddedDataDir;
  if (dataDir === undefined) logger.info('DATABASE_URL is not set: starting the embedded PostgreSQL (in memory, data is lost on exit)');
  else logger.info({ dataDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL (kept in PGLITE_DATA_DIR between starts)');
  return PgliteDriver.start({ dataDir, sharedBuffersBytes: config.database.embeddedSharedBuffersBytes });
}

function createMarketDataProvider(config: Config, stats: UpstreamStats, httpClient: typeof fetch): MarketDataProvider {
  const market = config.marketData;
  switch (market.provider) {
    case 'simulated':
      return new SimulatedMarketDataProvider({ latencyMs: market.simulatedLatencyMs, now: Date.now, ticksPerSecond: config.live.simulatedTicksPerSecond }, stats);
    case 'oanda':
      // loadConfig guarantees the token and account id when this provider is selected.
      return new OandaMarketDataProvider(
        {
          apiUrl: market.oanda.apiUrl,
          streamUrl: market.oanda.streamUrl,
          apiToken: market.oanda.apiToken ?? '',
          accountId: market.oanda.accountId ?? '',
          timeoutMs: market.timeoutMs,
          maxRetries: market.maxRetries,
          retryBaseDelayMs: market.retryBaseDelayMs,
          fetch: httpClient,
        },
        stats,
      );
  }
}
