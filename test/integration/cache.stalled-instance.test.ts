import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { buildGateway } from '../helpers/gateway-process';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = `${__dirname}/../..`;
const ACK_TIMEOUT_MS = 300;
const STALL_MS = 1_200;

/**
 * The stalled instance, in a process of its own (built code, `dist/`), so that its event loop can
 * stand still while the writer's runs: it loads user 1 from the "database" (a Redis key of the
 * test's), and when told to, stands still inside the load for STALL_MS, then finishes it.
 */
const STALLED_INSTANCE = `
const { Redis } = require('ioredis');
const { createCache } = require(process.env.ROOT + '/dist/src/cache/create-cache');
const { loadConfig } = require(process.env.ROOT + '/dist/src/config');
const { createLogger } = require(process.env.ROOT + '/dist/src/logger');
const { PREFIX, REDIS_URL, STALL_MS, ACK_TIMEOUT_MS } = process.env;
(async () => {
  const config = loadConfig({ REDIS_URL, CACHE_KEY_PREFIX: PREFIX, LOG_LEVEL: 'silent', CACHE_BUS_ACK_TIMEOUT_MS: ACK_TIMEOUT_MS });
  const cache = createCache(config, createLogger(config));
  await cache.start();
  const database = new Redis(REDIS_URL);
  let stall;
  process.on('message', (message) => {
    if (message === 'stall') stall();
    if (message !== 'load') return;
    void cache.service.getOrSet(cache.keys.user(1), async () => {
      const row = await database.get(PREFIX + ':database:user:1');
      await new Promise((resolve) => { stall = resolve; process.send('read'); });
      const until = Date.now() + Number(STALL_MS);
      while (Date.now() < until);
      return row;
    }, 3600).then(async (value) => {
      await cache.service.writesLanded();
      process.send('answered ' + value);
      await cache.close();
      database.disconnect();
      process.exit(0);
    });
  });
  process.send('ready');
})();
`;

/**
 * A writer waits CACHE_BUS_ACK_TIMEOUT_MS for the other instances to acknowledge its invalidation,
 * then evicts the silent ones and answers. An instance whose event loop stood still longer (a GC
 * pause, a CPU-bound task) has not read the announcement when it runs again; what it loaded
 * before the change must not reach Redis then, where every instance would read it for its TTL.
 */
describe('an instance whose event loop stands still past the acknowledgement timeout', () => {
  let database: Redis;
  let writer: Cache;
  let prefix: string;

  beforeAll(() => buildGateway(), 180_000);

  beforeEach(async () => {
    prefix = `stalled_${randomBytes(4).toString('hex')}`;
    database = new Redis(REDIS_URL);
    const config = loadConfig({ REDIS_URL, CACHE_KEY_PREFIX: prefix, LOG_LEVEL: 'silent', CACHE_BUS_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS) });
    writer = createCache(config, createLogger(config));
    await writer.start();
  });

  afterEach(async () => {
    await writer.close();
    const keys = await database.keys(`${prefix}*`);
    if (keys.length > 0) await database.del(...keys);
    database.disconnect();
  });

  it('does not write back what it loaded before a change it missed', async () => {
    await database.set(`${prefix}:database:user:1`, 'old');
    const stalled = await startStalledInstance(prefix);

    stalled.process.send('load');
    await stalled.next('read');
    // The write commits, the instance stands still inside its load, the writer invalidates.
    await database.set(`${prefix}:database:user:1`, 'new');
    stalled.process.send('stall');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedMs = Date.now();
    await writer.invalidator.invalidateUserCache(1);
    // It answered without the stalled instance's acknowledgement: the case at hand.
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(ACK_TIMEOUT_MS - 50);

    expect(await stalled.next('answered')).toBe('answered old');
    expect(await database.get(writer.keys.user(1))).toBeNull();
    expect(await writer.service.getOrSet(writer.keys.user(1), async () => database.get(`${prefix}:database:user:1`), 3600)).toBe('new');
  }, 60_000);

  it('takes itself for evicted as soon as it runs again: no near copies or shared writes in that turn, and everything local dropped at the next', async () => {
    const events: string[] = [];
    writer.service.bus.onEvent((event) => events.push(event.kind));
    const epoch = writer.service.invalidationEpoch;
    expect(writer.service.bus.coherent).toBe(true);

    const until = Date.now() + ACK_TIMEOUT_MS;
    while (Date.now() < until);
    expect(writer.service.bus.coherent).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, ACK_TIMEOUT_MS / 5));
    expect(events).toContain('reset');
    expect(writer.service.invalidationEpoch).toBeGreaterThan(epoch);
    expect(writer.service.bus.coherent).toBe(true);
  });
});

async function startStalledInstance(prefix: string): Promise<{ process: ChildProcess; next: (start: string) => Promise<string> }> {
  const env = { PATH: process.env.PATH, ROOT, PREFIX: prefix, REDIS_URL, STALL_MS: String(STALL_MS), ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS) };
  const child = spawn(process.execPath, ['-e', STALLED_INSTANCE], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: string[] = [];
  child.on('message', (message) => messages.push(message as string));
  const next = async (start: string) => {
    let found: string | undefined;
    await eventually(() => (found = messages.find((message) => message.startsWith(start))) !== undefined, 20_000, `the stalled instance's "${start}"`);
    messages.splice(messages.indexOf(found!), 1);
    return found!;
  };
  await next('ready');
  return { process: child, next };
}
