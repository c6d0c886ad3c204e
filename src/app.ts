import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import Fastify, { type FastifyInstance } from 'fastify';

import { type Cache, createCache } from './cache/create-cache';
import type { Config } from './config';
import { Database, type SqlDriver } from './db/database';
import { migrate } from './db/migrations';
import { PgDriver } from './db/pg-driver';
import { PgliteDriver } from './db/pglite-driver';
import { seedDemoData } from './demo/demo-data';
import { createErrorFormatter } from './graphql/format-error';
import { registerGraphqlRoute } from './http/graphql-route';
import { registerHealthRoutes } from './http/health-routes';
import type { Logger } from './logger';
import { type MarketDataProvider, UpstreamStats } from './market/market-data.provider';
import { MarketService } from './market/market.service';
import { OandaMarketDataProvider } from './market/oanda.provider';
import { SimulatedMarketDataProvider } from './market/simulated.provider';
import { createLoaders, type RequestContext } from './request-context';
import { buildGatewaySchema } from './schema';
import { Authenticator } from './sessions/authenticator';
import { SessionsRepository } from './sessions/sessions.repository';
import { SignalsRepository } from './signals/signals.repository';
import { SignalsService } from './signals/signals.service';
import { UsersRepository } from './users/users.repository';
import { UsersService } from './users/users.service';

/** Largest request body accepted, in bytes. */
const BODY_LIMIT_BYTES = 100 * 1024;

export interface Gateway {
  readonly http: FastifyInstance;
  readonly db: Database;
  readonly cache: Cache;
  readonly upstream: UpstreamStats;
  /** Listens on the configured host and port; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stops accepting requests, lets in-flight ones finish, then closes the store. */
  close(): Promise<void>;
}

/** The composition root: every long-lived object is built here and handed to what uses it. */
export async function createGateway(config: Config, logger: Logger): Promise<Gateway> {
  const startedAtMs = Date.now();
  const db = new Database(await createDriver(config, logger));
  try {
    const applied = await migrate(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    if (config.database.seedDemoData && (await seedDemoData(db))) logger.info('demo data generated');
  } catch (error) {
    await db.close();
    throw error;
  }

  const cache = createCache(config, logger);
  await cache.start();

  const upstream = new UpstreamStats();
  const usersRepository = new UsersRepository(db);
  const services = {
    users: new UsersService(usersRepository),
    signals: new SignalsService(new SignalsRepository(db), usersRepository),
    market: new MarketService(createMarketDataProvider(config, upstream)),
  };
  const authenticator = new Authenticator(new SessionsRepository(db), config.adminApiToken);

  const apollo = new ApolloServer<RequestContext>({
    schema: await buildGatewaySchema(services),
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    csrfPrevention: true,
    // main.ts owns SIGTERM; a second stop() from Apollo's own handler never resolves in 5.5.
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginLandingPageDisabled()],
    logger,
  });
  await apollo.start();

  const http = Fastify({ bodyLimit: BODY_LIMIT_BYTES, logger: false });
  registerHealthRoutes(http, startedAtMs);
  registerGraphqlRoute(http, '/graphql', apollo, async (request) => ({
    viewer: await authenticator.authenticate(request.headers.authorization),
    loaders: createLoaders(services),
  }));

  return {
    http,
    db,
    cache,
    upstream,
    async listen() {
      const url = await http.listen({ host: config.http.host, port: config.http.port });
      logger.info({ url, database: config.database.url === undefined ? 'embedded' : 'postgres', marketData: config.marketData.provider }, 'gateway listening');
      return url;
    },
    async close() {
      await http.close();
      await apollo.stop();
      await cache.close();
      await db.close();
    },
  };
}

async function createDriver(config: Config, logger: Logger): Promise<SqlDriver> {
  if (config.database.url !== undefined) return new PgDriver({ url: config.database.url, poolSize: config.database.poolSize });
  logger.info('DATABASE_URL is not set: starting the embedded PostgreSQL (in memory, data is lost on exit)');
  return PgliteDriver.start();
}

function createMarketDataProvider(config: Config, stats: UpstreamStats): MarketDataProvider {
  const market = config.marketData;
  switch (market.provider) {
    case 'simulated':
      return new SimulatedMarketDataProvider({ latencyMs: market.simulatedLatencyMs, now: Date.now }, stats);
    case 'oanda':
      // loadConfig guarantees the token and account id when this provider is selected.
      return new OandaMarketDataProvider(
        {
          apiUrl: market.oanda.apiUrl,
          apiToken: market.oanda.apiToken ?? '',
          accountId: market.oanda.accountId ?? '',
          timeoutMs: market.timeoutMs,
          maxRetries: market.maxRetries,
          retryBaseDelayMs: market.retryBaseDelayMs,
        },
        stats,
      );
  }
}
