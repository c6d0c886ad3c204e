import pino from 'pino';

import { LeaseManager } from '../../src/cache/lease';
import { RedisPool } from '../../src/cache/redis-pool';
import { RedisTier } from '../../src/cache/redis-tier';
import { createLimiter, type WarmingStrategy, WarmingService } from '../../src/warming/warming.service';
import { RedisServer } from '../helpers/redis-server';

const logger = pino({ level: 'silent' });
const OPTIONS = { enabled: true, intervalSeconds: 3600, maxConcurrent: 3, leaseTtlMs: 10_000 };

/** A strategy whose tasks wait until the test lets them go, recording how many run at once. */
function gatedStrategy(name: WarmingStrategy['name'], tasks: number) {
  let inFlight = 0;
  let peak = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const strategy: WarmingStrategy = {
    name,
    run: async (limit) => {
      await Promise.all(
        Array.from({ length: tasks }, () =>
          limit(async () => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            await gate;
            inFlight -= 1;
          }),
        ),
      );
      return tasks;
    },
  };
  return { strategy, open: () => open(), peak: () => peak };
}

describe('cache warming', () => {
  let server: RedisServer;
  const pools: RedisPool[] = [];

  const leasesOn = (url: string) => {
    const pool = new RedisPool({ topology: { kind: 'standalone', url }, password: undefined, db: 0, size: 1, timeoutMs: 200, maxReconnectDelayMs: 200 }, logger);
    pools.push(pool);
    return { connect: () => pool.connect(), leases: new LeaseManager(new RedisTier(pool, (tag) => `test:tags:${tag}`), logger) };
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
    await server.stop();
  });

  it('runs every strategy, isolates a failing one and records metrics per strategy', async () => {
    const { connect, leases } = leasesOn(server.url);
    await connect();
    const failing: WarmingStrategy = { name: 'market_data', run: () => Promise.reject(new Error('feed down')) };
    const working: WarmingStrategy = { name: 'statistics', run: () => Promise.resolve(10) };
    const warming = new WarmingService([failing, working], leases, 'test:locks:warming:1', OPTIONS, logger);
    const run = await warming.warm();
    expect(run).toMatchObject({
      status: 'completed',
      results: [
        { name: 'market_data', success: false, items_processed: 0, error: 'feed down' },
        { name: 'statistics', success: true, items_processed: 10, error: null },
      ],
    });
    expect(warming.metrics()).toMatchObject({ runs: 1, strategies: [{ name: 'market_data', runs: 1, failures: 1 }, { name: 'statistics', runs: 1, failures: 0, last_run_at: expect.any(String) }] });
  });

  it('keeps at most maxConcurrent tasks in flight across strategies', async () => {
    const { connect, leases } = leasesOn(server.url);
    await connect();
    const a = gatedStrategy('user_data', 5);
    const b = gatedStrategy('signals_data', 5);
    const warming = new WarmingService([a.strategy, b.strategy], leases, 'test:locks:warming:2', OPTIONS, logger);
    const run = warming.warm();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(a.peak() + b.peak()).toBe(3);
    a.open();
    b.open();
    expect(await run).toMatchObject({ status: 'completed' });
  });

  it('never overlaps itself, in one process or across instances sharing Redis', async () => {
    const first = leasesOn(server.url);
    const second = leasesOn(server.url);
    await Promise.all([first.connect(), second.connect()]);
    const slow = gatedStrategy('user_data', 1);
    const here = new WarmingService([slow.strategy], first.leases, 'test:locks:warming:3', OPTIONS, logger);
    const elsewhere = new WarmingService([{ name: 'user_data', run: () => Promise.resolve(1) }], second.leases, 'test:locks:warming:3', OPTIONS, logger);
    const running = here.warm();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await here.warm()).toEqual({ status: 'skipped', reason: 'a warming run is already in progress on this instance' });
    expect(await elsewhere.warm()).toEqual({ status: 'skipped', reason: 'a warming run is already in progress on another instance' });
    slow.open();
    await running;
    expect(await elsewhere.warm()).toMatchObject({ status: 'completed' });
    expect(elsewhere.metrics().skipped_runs).toBe(1);
  });

  it('runs at start and on its interval when enabled, and not at all when disabled', async () => {
    const { connect, leases } = leasesOn(server.url);
    await connect();
    let runs = 0;
    const counting: WarmingStrategy = { name: 'statistics', run: () => Promise.resolve(++runs) };
    const warming = new WarmingService([counting], leases, 'test:locks:warming:4', { ...OPTIONS, intervalSeconds: 1 }, logger);
    warming.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_300));
      expect(runs).toBeGreaterThanOrEqual(2);
    } finally {
      warming.stop();
    }
    const disabled = new WarmingService([counting], leases, 'test:locks:warming:5', { ...OPTIONS, enabled: false }, logger);
    const before = runs;
    disabled.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runs).toBe(before);
  });

  it('still warms (this instance only) when Redis is unreachable', async () => {
    const { leases } = leasesOn('redis://127.0.0.1:1');
    const warming = new WarmingService([{ name: 'statistics', run: () => Promise.resolve(3) }], leases, 'test:locks:warming:6', OPTIONS, logger);
    expect(await warming.warm()).toMatchObject({ status: 'completed', results: [{ success: true, items_processed: 3 }] });
  });
});

describe('the concurrency limiter', () => {
  it('hands a finished slot to the next waiter, never exceeding the bound', async () => {
    const limit = createLimiter(2);
    let active = 0;
    let peak = 0;
    const task = () =>
      limit(async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setImmediate(resolve));
        active -= 1;
      });
    await Promise.all(Array.from({ length: 20 }, task));
    expect(peak).toBe(2);
  });
});
