import { randomBytes } from 'node:crypto';

import { createGateway, type Gateway } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { copyOfTemplate } from './embedded-template';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
/** The demo sessions documented in the README (users 1 and 2, and an expired one of user 1). */
export const ALICE = 'demo-alice-session-token';
export const BOB = 'demo-bob-session-token';
export const EXPIRED = 'demo-expired-session-token';

export interface TestGateway {
  readonly gateway: Gateway;
  readonly url: string;
  /** POSTs a GraphQL operation; `token` becomes a Bearer header. */
  graphql<Data = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphqlResult<Data>>;
  /** Database queries plus upstream requests made so far. */
  dataSourceCalls(): number;
  close(): Promise<void>;
}

export interface GraphqlResult<Data> {
  readonly status: number;
  readonly data?: Data | null;
  readonly errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
  readonly extensions?: Record<string, unknown>;
}

/**
 * Starts a real gateway on a free loopback port with quiet logs; `env` overrides the defaults.
 * Its cache keys get a prefix of their own, so gateways sharing a Redis never see each other's entries.
 */
export async function startTestGateway(
  env: Record<string, string> = {},
  options: { logger?: Logger; now?: () => number; /** Before it listens: Fastify takes hooks only then. */ beforeListen?: (gateway: Gateway) => void } = {},
): Promise<TestGateway> {
  const defaults = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    ADMIN_API_TOKEN: TEST_ADMIN_TOKEN,
    REDIS_URL: 'redis://127.0.0.1:6379',
    // Generous: a busy 2-core CI machine must not fake a Redis outage (tests of outages set their own).
    REDIS_TIMEOUT: '2',
    CACHE_KEY_PREFIX: `test_${randomBytes(4).toString('hex')}`,
    CACHE_WARMING_ENABLED: 'false',
  };
  const testEnv = { ...defaults, ...env };
  let config = loadConfig(testEnv);
  // The default embedded database (in memory, seeded): a copy of the run's seeded one instead, see embedded-template.ts.
  const { url: databaseUrl, embeddedDataDir, seedDemoData } = config.database;
  const copy = databaseUrl === undefined && embeddedDataDir === undefined && seedDemoData && !('PGLITE_DATA_DIR' in env) ? await copyOfTemplate((dataDir) => makeTemplate({ ...defaults, PGLITE_DATA_DIR: dataDir })) : undefined;
  if (copy !== undefined) config = loadConfig({ ...testEnv, PGLITE_DATA_DIR: copy.dataDir });
  let gateway: Gateway;
  try {
    gateway = await createGateway(config, options.logger ?? createLogger(config), options.now === undefined ? {} : { now: options.now });
  } catch (error) {
    copy?.remove();
    throw error;
  }
  options.beforeListen?.(gateway);
  const url = await gateway.listen();
  return {
    gateway,
    url,
    async graphql<Data>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphqlResult<Data>> {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as Omit<GraphqlResult<Data>, 'status'>) };
    },
    dataSourceCalls: () => gateway.db.queryCounts().total + gateway.upstream.requests,
    close: async () => {
      await gateway.close();
      copy?.remove();
    },
  };
}

/** What a first start leaves in PGLITE_DATA_DIR: migrated and seeded. */
async function makeTemplate(env: Record<string, string>): Promise<void> {
  const config = loadConfig(env);
  const gateway = await createGateway(config, createLogger(config));
  await gateway.close();
}
