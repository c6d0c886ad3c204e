import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig, loadConfigFromProcess } from '../../src/config';
import { Authenticator } from '../../src/sessions/authenticator';

describe('configuration', () => {
  it('runs on embedded defaults with no variable set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      http: { port: 4000 },
      database: { url: undefined, seedDemoData: true },
      redis: { topology: { kind: 'standalone', url: 'redis://localhost:6379' }, db: 0, poolSize: 10, timeoutMs: 5000, retryOnTimeout: true },
      cache: {
        keyPrefix: 'ai_trading',
        ttlSeconds: { short: 300, medium: 1800, long: 3600, veryLong: 86400 },
        fallbackMaxItems: 1000,
        warming: { enabled: true, intervalSeconds: 300, maxConcurrent: 5 },
      },
      adminApiToken: undefined,
      marketData: { provider: 'simulated', simulatedLatencyMs: 0 },
    });
    expect(Object.isFrozen(config.cache.ttlSeconds)).toBe(true);
  });

  it('reads the seed variables with their units', () => {
    const config = loadConfig({ REDIS_TIMEOUT: '0.25', REDIS_RETRY_ON_TIMEOUT: 'false', CACHE_TTL_SHORT: '60', CACHE_WARMING_ENABLED: 'no' });
    expect(config.redis.timeoutMs).toBe(250);
    expect(config.redis.retryOnTimeout).toBe(false);
    expect(config.cache.ttlSeconds.short).toBe(60);
    expect(config.cache.warming.enabled).toBe(false);
  });

  it('does not generate demo data in production unless asked', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).database.seedDemoData).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', SEED_DEMO_DATA: 'true' }).database.seedDemoData).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['REDIS_DB', '-1'],
    ['REDIS_TIMEOUT', '0'],
    ['REDIS_RETRY_ON_TIMEOUT', 'maybe'],
    ['CACHE_TTL_LONG', '1.5'],
    ['CACHE_KEY_PREFIX', 'ai trading*'],
    ['DATABASE_URL', 'mysql://localhost/test'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['MARKET_DATA_PROVIDER', 'bloomberg'],
  ])('stops on a bad %s (%s) with a message naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^Invalid configuration: ${name} is "${value.replace(/[.*]/g, '\\$&')}"`));
  });

  it('selects the Redis topology: one server, a Cluster, or a master through Sentinel', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, redis-2:7001,' }).redis.topology).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'redis-1', port: 7000 },
        { host: 'redis-2', port: 7001 },
      ],
    });
    expect(loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_NAME: 'cache' }).redis.topology).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26379 }],
      masterName: 'cache',
      sentinelPassword: undefined,
    });
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis-1' })).toThrow(/^Invalid configuration: REDIS_CLUSTER_NODES is "redis-1": must list host:port pairs/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2' })).toThrow(/REDIS_CLUSTER_NODES cannot be combined with REDIS_SENTINELS/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_DB: '3' })).toThrow(/REDIS_DB must be 0 with REDIS_CLUSTER_NODES/);
  });

  it('refuses a short admin token without echoing it', () => {
    expect(() => loadConfig({ ADMIN_API_TOKEN: 'hunter2' })).toThrow('Invalid configuration: ADMIN_API_TOKEN is invalid (value hidden): must be at least 16 characters long');
  });

  it('refuses, at start-up, an admin token that no Authorization header could carry', () => {
    expect(() => loadConfig({ ADMIN_API_TOKEN: 'k'.repeat(513) })).toThrow('Invalid configuration: ADMIN_API_TOKEN is invalid (value hidden): must be at most 512 characters long');
    for (const token of ['correct horse battery staple', 'tab\tseparated-admin-token', 'café-admin-token-0123456789']) {
      expect(() => loadConfig({ ADMIN_API_TOKEN: token })).toThrow(/^Invalid configuration: ADMIN_API_TOKEN is invalid \(value hidden\): must be printable ASCII without spaces/);
    }
  });

  it.each([
    ['the shortest', '0123456789abcdef'],
    ['the longest', 'k'.repeat(512)],
    ['one with punctuation', 'a!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~z'],
  ])('accepts only admin tokens the authenticator matches: %s', async (_name, token) => {
    const { adminApiToken } = loadConfig({ ADMIN_API_TOKEN: token });
    const authenticator = new Authenticator({ findUserIdByToken: () => Promise.resolve(null) }, adminApiToken);
    await expect(authenticator.authenticate(`Bearer ${token}`)).resolves.toEqual({ kind: 'admin' });
  });

  it('bounds how slowly a client may send its request: whole request, headers, idle keep-alive', () => {
    expect(loadConfig({}).http).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000 });
    expect(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '2000', HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000' }).http).toMatchObject({
      requestTimeoutMs: 2000,
      headersTimeoutMs: 500,
      keepAliveTimeoutMs: 5000,
    });
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/^Invalid configuration: HTTP_REQUEST_TIMEOUT_MS is "0"/);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: 'soon' })).toThrow(/^Invalid configuration: HTTP_HEADERS_TIMEOUT_MS is "soon"/);
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' })).toThrow(
      'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS (5000)',
    );
  });

  it('requires the OANDA credentials when the OANDA provider is selected', () => {
    expect(() => loadConfig({ MARKET_DATA_PROVIDER: 'oanda' })).toThrow(/OANDA_API_TOKEN is required/);
    expect(() => loadConfig({ MARKET_DATA_PROVIDER: 'oanda', OANDA_API_TOKEN: 't' })).toThrow(/OANDA_ACCOUNT_ID is required/);
    expect(loadConfig({ MARKET_DATA_PROVIDER: 'oanda', OANDA_API_TOKEN: 't', OANDA_ACCOUNT_ID: '001-1' }).marketData.oanda.accountId).toBe('001-1');
  });

  it('reads a .env file without overriding variables already set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'CACHE_TTL_VERY_LONG=7200\nCACHE_TTL_MEDIUM=999\n');
    const saved = { ...process.env };
    try {
      process.env.CACHE_TTL_MEDIUM = '1200';
      delete process.env.CACHE_TTL_VERY_LONG;
      const config = loadConfigFromProcess(file);
      expect(config.cache.ttlSeconds.veryLong).toBe(7200);
      expect(config.cache.ttlSeconds.medium).toBe(1200);
    } finally {
      process.env = saved;
    }
  });
});

describe('.env.example', () => {
  it('documents exactly the variables the configuration reads', () => {
    const root = join(__dirname, '..', '..');
    const read = [...readFileSync(join(root, 'src', 'config.ts'), 'utf8').matchAll(/read\(\s*env,\s*'([A-Z_]+)'/g)].map((m) => m[1]);
    const documented = [...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
    expect([...new Set(documented)].sort()).toEqual([...new Set(read)].sort());
  });
});
