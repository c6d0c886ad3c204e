import { Redis } from 'ioredis';

import type { CacheTier } from '../../src/cache/cache-tier';
import { type Cache, type CacheExtras, createCache } from '../../src/cache/create-cache';
import type { Invalidation } from '../../src/cache/invalidation-journal';
import type { KeptInvalidation, SharedJournal } from '../../src/cache/shared-journal';
import { loadConfig } from '../../src/config';
import { ResponseCache } from '../../src/graphql/response-cache/response-cache';
import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { RedisServer } from '../helpers/redis-server';

const POLICY = { ttlSeconds: 60, scope: 'PUBLIC' as const, tags: new Set(['User:1', 'User']) };
const OPERATION = { query: 'query Profile($v: Int) { user(id: 1) { name } }', operationName: undefined, variables: undefined };

/** Two gateway instances' caches on one Redis: what one invalidates the other never serves, and a cold key is loaded once. */
describe('caches across gateway instances', () => {
  let server: RedisServer;
  const caches: Cache[] = [];

  const instance = async (near: boolean, env: Record<string, string> = {}, extras: CacheExtras = {}) => {
    const config = loadConfig({
      REDIS_URL: server.url,
      REDIS_TIMEOUT: '0.2',
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_BUS_ACK_TIMEOUT_MS: '300',
      LOG_LEVEL: 'silent',
      CACHE_KEY_PREFIX: 'rc_test',
      ...env,
    });
    const cache = createCache(config, createLogger(config), extras);
    await cache.start();
    caches.push(cache);
    const responses = new ResponseCache(cache.service, cache.keys, { nearEnabled: near, nearMaxBytes: 1_000_000, nearMaxTtlSeconds: 30, schemaVersion: 'v1', maxTokens: 10_000 });
    return { cache, responses };
  };

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  // Each case's instances go with it: an instance left running would take part in the next case.
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((cache) => cache.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('drops the near copy on every instance when one of them invalidates', async () => {
    const a = await instance(true);
    const b = await instance(true);
    const { publicKey, privateKey } = a.responses.keysFor(OPERATION, 'anonymous')!;
    await a.responses.store(publicKey, Buffer.from('{"data":{"user":{"name":"old"}}}'), POLICY, a.responses.epoch())?.stored;
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
    expect((await b.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
    expect((await b.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
    await b.cache.invalidator.invalidateUserCache(1);
    // Not eventually: the invalidation answers only once A has acknowledged it.
    expect(a.responses.metrics().near_entries).toBe(0);
    expect(await a.responses.lookup(publicKey, privateKey)).toBeUndefined();
    expect(await b.responses.lookup(publicKey, privateKey)).toBeUndefined();
  });

  it('answers a write within the acknowledgement timeout when a member is silent, and evicts it from the bus', async () => {
    const a = await instance(true);
    const redis = new Redis(server.url);
    try {
      const membersKey = a.cache.keys.busMembers();
      const [seconds] = await redis.time();
      await redis.zadd(membersKey, Number(seconds) * 1000 + 60_000, 'a-frozen-instance');
      const started = Date.now();
      await a.cache.invalidator.invalidateUserCache(2);
      const elapsedMs = Date.now() - started;
      expect(elapsedMs).toBeGreaterThanOrEqual(290);
      expect(elapsedMs).toBeLessThan(2_000);
      expect(await redis.zscore(membersKey, 'a-frozen-instance')).toBeNull();
      // The live instances are still members, and the next write does not wait.
      expect(await redis.zcard(membersKey)).toBe(caches.length);
      const next = Date.now();
      await a.cache.invalidator.invalidateUserCache(2);
      expect(Date.now() - next).toBeLessThan(290);
    } finally {
      redis.disconnect();
    }
  });

  it('announces everything one write changes as one invalidation: one message, one acknowledgement round', async () => {
    const a = await instance(true);
    const listener = new Redis(server.url);
    try {
      const messages: string[] = [];
      listener.on('message', (_channel: string, message: string) => messages.push(message));
      await listener.subscribe(a.cache.keys.busChannel());
      await a.cache.invalidator.invalidateSignalWrite({ id: 7, symbol: 'EUR_USD', userId: 3 }, []);
      await eventually(() => messages.length > 0, 2_000, 'the announcement');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(messages).toHaveLength(1);
      const { invalidation } = JSON.parse(messages[0]!) as { invalidation: { kind: string; parts: { kind: string }[] } };
      expect(invalidation.kind).toBe('batch');
      expect(invalidation.parts.map((part) => part.kind)).toEqual(['keys', 'tags']);
    } finally {
      listener.disconnect();
    }
  });

  it('serves no near copy while its bus subscriber is down, and none of the old ones once it is back', async () => {
    const a = await instance(true);
    const redis = new Redis(server.url);
    try {
      const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 6 } }, 'anonymous')!;
      await a.responses.store(publicKey, Buffer.from('{"data":{"user":{"name":"near"}}}'), POLICY, a.responses.epoch())?.stored;
      expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
      await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await eventually(() => !a.cache.service.bus.coherent, 2_000, 'the bus noticed');
      expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
      // Nor is anything written to Redis meanwhile: it may predate a change this instance did not hear of.
      await a.cache.service.set(a.cache.keys.user(77), 'loaded while deaf', 60);
      expect(await redis.exists('rc_test:users:77')).toBe(0);
      await eventually(() => a.cache.service.bus.coherent, 5_000, 'the bus is back');
      expect(a.responses.metrics().near_entries).toBe(0);
      expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
      expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
    } finally {
      redis.disconnect();
    }
  });

  it('reads every hit from Redis when the near cache is off', async () => {
    const a = await instance(false);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 2 } }, 'anonymous')!;
    await a.responses.store(publicKey, Buffer.from('{"data":{}}'), POLICY, a.responses.epoch())?.stored;
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).toBe('shared');
  });

  it('does not store a response computed before an invalidation', async () => {
    const a = await instance(true);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 3 } }, 'anonymous')!;
    const epoch = a.responses.epoch();
    await a.cache.invalidator.invalidateUserCache(1);
    expect(a.responses.store(publicKey, Buffer.from('{"data":{"user":{"name":"old"}}}'), POLICY, epoch)).toBeUndefined();
    expect(await a.responses.lookup(publicKey, privateKey)).toBeUndefined();
  });

  it('treats a corrupt stored response as a miss', async () => {
    const a = await instance(false);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 4 } }, 'anonymous')!;
    await a.cache.service.setRaw([{ key: publicKey, value: '{"e":1}\n{"data":{}}', ttlSeconds: 60 }]);
    expect(await a.responses.lookup(publicKey, privateKey)).toBeUndefined();
  });

  it('loads a cold key once across instances; the others take its result from Redis', async () => {
    // A command timeout a busy 2-core CI machine keeps (0.2 s is for the outage cases above): a
    // slow SET or lease read would otherwise count as Redis down, and the load would run twice.
    const generous = { REDIS_TIMEOUT: '2' };
    const [a, b] = [await instance(false, generous), await instance(false, generous)];
    const key = a.cache.keys.api('expensive', { v: 1 });
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 150));
      return { computed: loads };
    };
    const results = await Promise.all(Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? a : b).cache.service.getOrSet(key, load, 60)));
    expect(loads).toBe(1);
    expect(results).toEqual(Array.from({ length: 40 }, () => ({ computed: 1 })));
    expect(a.cache.service.metricsReport().fleet_coalesced + b.cache.service.metricsReport().fleet_coalesced).toBe(1);
  });

  it('answers a miss before its response lands in Redis, and keeps the lease until it has: another instance asking meanwhile takes that response', async () => {
    // Writes are held for a while below: a command timeout that outlasts the hold.
    const generous = { REDIS_TIMEOUT: '4' };
    const [a, b] = [await instance(false, generous), await instance(false, generous)];
    const redis = new Redis(server.url);
    try {
      const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 8 } }, 'anonymous')!;
      const body = '{"data":{"user":{"name":"executed by a"}}}';
      const answered = await a.responses.fleetFlight(publicKey, privateKey, () => 'taken from Redis', async () => {
        // From here the server holds every write (and serves reads) until the pause ends: A's store waits.
        await redis.call('CLIENT', 'PAUSE', '1500', 'WRITE');
        const kept = a.responses.store(publicKey, Buffer.from(body), POLICY, a.responses.epoch())!;
        return { value: 'executed by a', stored: kept.stored };
      });
      expect(answered).toBe('executed by a');
      expect(await redis.exists(publicKey)).toBe(0);

      const executeB = jest.fn(() => Promise.resolve({ value: 'executed by b', stored: Promise.resolve() }));
      const taken = await b.responses.fleetFlight(publicKey, privateKey, (response) => response.body.toString(), executeB);
      expect(taken).toBe(body);
      expect(executeB).not.toHaveBeenCalled();
      expect(b.responses.metrics().fleet_coalesced).toBe(1);
      await eventually(async () => (await redis.exists(a.cache.keys.flightLease(privateKey))) === 0, 2_000, 'the lease released');
    } finally {
      await redis.call('CLIENT', 'UNPAUSE');
      redis.disconnect();
    }
  });

  it('stops waiting when the leading instance fails, and loads itself', async () => {
    const [a, b] = [await instance(false), await instance(false)];
    const key = a.cache.keys.api('expensive', { v: 2 });
    const failing = a.cache.service.getOrSet(key, () => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('upstream down')), 100)), 60);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    const waited = b.cache.service.getOrSet(key, () => Promise.resolve('loaded by the waiter'), 60);
    await expect(failing).rejects.toThrow('upstream down');
    await expect(waited).resolves.toBe('loaded by the waiter');
    // Released at once by the failed leader: far sooner than the lease would have expired.
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('does not write back a load that another instance invalidated meanwhile', async () => {
    const [a, b] = [await instance(false), await instance(false)];
    const key = a.cache.keys.user(77);
    const slow = b.cache.service.getOrSet(key, () => new Promise((resolve) => setTimeout(() => resolve('read before the change'), 200)), 60);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await a.cache.invalidator.invalidateUserCache(77);
    await expect(slow).resolves.toBe('read before the change');
    expect(await a.cache.service.get(key)).toBeUndefined();
  });

  it('clears near copies when its subscriber reconnects (messages may have been lost)', async () => {
    const a = await instance(true);
    const { publicKey, privateKey } = a.responses.keysFor({ ...OPERATION, variables: { v: 5 } }, 'anonymous')!;
    await a.responses.store(publicKey, Buffer.from('{"data":{}}'), POLICY, a.responses.epoch())?.stored;
    expect(a.responses.metrics().near_entries).toBeGreaterThan(0);
    await server.restart();
    await eventually(() => a.responses.metrics().near_entries === 0, 10_000);
    expect((await a.responses.lookup(publicKey, privateKey))?.tier).not.toBe('near');
  });

  describe('while an invalidation is under way (between its first and its second delete)', () => {
    const READ = { query: 'query P { user(id: 1) { name } }', operationName: undefined, variables: undefined };
    const DERIVED = { query: 'query Q { user(id: 1) { name id } }', operationName: undefined, variables: undefined };
    const OLD = '{"data":{"user":{"name":"old"}}}';

    /** The Redis tier of one instance, with `hook` called around its deleteTagged (the n-th call). */
    const hooked = (hook: (n: number, original: () => Promise<number>) => Promise<number>): CacheExtras => ({
      wrappers: {
        tier: (tier: CacheTier) => {
          if (tier.name !== 'redis') return tier;
          let calls = 0;
          return Object.assign(Object.create(tier) as CacheTier, { deleteTagged: (tags: readonly string[]) => hook((calls += 1), () => tier.deleteTagged(tags)) });
        },
        fleet: (flight) => flight,
      },
    });

    it("keeps nothing read from another instance's late write: no near copy, no response derived from it", async () => {
      let inWindow: () => Promise<void> = () => Promise.resolve();
      let afterFirstDelete: () => Promise<void> = () => Promise.resolve();
      const writer = await instance(true, {}, hooked(async (n, original) => {
        if (n === 2) await inWindow();
        const removed = await original();
        if (n === 1) await afterFirstDelete();
        return removed;
      }));
      const slow = await instance(true);
      const reader = await instance(true);
      const read = slow.responses.keysFor(READ, 'anonymous')!;
      const derived = reader.responses.keysFor(DERIVED, 'anonymous')!;
      // The slow instance began executing before the change; its store lands after the writer's
      // first delete, before it has read the announcement (the case the second delete is for).
      const slowEpoch = slow.responses.epoch();
      afterFirstDelete = async () => {
        await slow.responses.store(read.publicKey, Buffer.from(OLD), POLICY, slowEpoch)?.stored;
      };
      // Every instance has acknowledged; the writer has not deleted again yet. Requests arrive.
      let derivedEpoch = 0;
      inWindow = async () => {
        expect((await slow.responses.lookup(read.publicKey, read.privateKey))?.tier).toBe('shared');
        expect((await reader.responses.lookup(read.publicKey, read.privateKey))?.tier).toBe('shared');
        derivedEpoch = reader.responses.epoch();
      };
      await writer.cache.invalidator.invalidateUserCache(1);
      // The reader's execution from what it read in the window ends after the second delete.
      await reader.responses.store(derived.publicKey, Buffer.from(OLD), POLICY, derivedEpoch)?.stored;

      for (const { responses } of [writer, slow, reader]) {
        expect(await responses.lookup(read.publicKey, read.privateKey)).toBeUndefined();
        expect(await responses.lookup(derived.publicKey, derived.privateKey)).toBeUndefined();
      }
    });

    /** A shared journal in memory, replayed as SqlSharedJournal does (rows marked once applied). */
    const memoryJournal = () => {
      const rows: { invalidation: Invalidation; pending: boolean }[] = [];
      const journal: SharedJournal = {
        fleetWide: true,
        add: (invalidation, pending) => Promise.resolve(void rows.push({ invalidation, pending })),
        replay: async (apply) => {
          for (const row of rows.filter((candidate) => candidate.pending)) {
            await apply(row.invalidation);
            row.pending = false;
          }
        },
        recent: () => Promise.resolve(rows.map((row, index): KeptInvalidation => ({ id: String(index), invalidation: row.invalidation }))),
      };
      return { rows, journal };
    };

    /** Makes every client's PUBLISH of an invalidation fail (the first `times`) until `restore` is called. */
    const refuseAnnouncements = (times = Infinity): { refused: () => number; restore: () => void } => {
      // Put back as it was, and called with each client as `this`.
      // eslint-disable-next-line @typescript-eslint/unbound-method
      const publish = Redis.prototype.publish;
      let refused = 0;
      Redis.prototype.publish = function (this: Redis, ...args: Parameters<Redis['publish']>) {
        if (refused < times && String(args[1]).includes('"invalidation"')) {
          refused += 1;
          return Promise.reject(new Error('Command timed out'));
        }
        return publish.apply(this, args);
      };
      return { refused: () => refused, restore: () => (Redis.prototype.publish = publish) };
    };

    it('keeps nothing either when it is replayed from the shared journal (an invalidation a cut-off instance made)', async () => {
      const { rows, journal } = memoryJournal();
      const replaying = await instance(true, {}, { sharedJournal: () => journal });
      const key = replaying.cache.keys.user(1);
      // A load under way on the replaying instance read the row before the change.
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const loading = replaying.cache.service.getOrSet(key, async () => {
        await gate;
        return { id: 1, name: 'old' };
      }, 60);
      await new Promise((resolve) => setTimeout(resolve, 30));
      await journal.add({ kind: 'batch', parts: [{ kind: 'keys', keys: [key] }, { kind: 'tags', tags: ['User:1'] }] }, true);
      await eventually(() => rows.every((row) => !row.pending), 5_000, 'the replay');
      release();
      expect(await loading).toEqual({ id: 1, name: 'old' });
      await replaying.cache.service.writesLanded();
      expect(await replaying.cache.service.get(key)).toBeUndefined();
    });

    it('announces it once more when the first announcement fails, so that no instance keeps a copy', async () => {
      const writer = await instance(true);
      const other = await instance(true);
      const { publicKey, privateKey } = other.responses.keysFor(READ, 'anonymous')!;
      await other.responses.store(publicKey, Buffer.from(OLD), POLICY, other.responses.epoch())?.stored;
      expect((await other.responses.lookup(publicKey, privateKey))?.tier).toBe('near');
      const announcements = refuseAnnouncements(1);
      try {
        await writer.cache.invalidator.invalidateUserCache(1);
      } finally {
        announcements.restore();
      }
      expect(announcements.refused()).toBe(1);
      expect(await other.responses.lookup(publicKey, privateKey)).toBeUndefined();
    });

    it('keeps a replay whose announcement Redis refuses pending, once, and replays it when Redis takes it', async () => {
      const { rows, journal } = memoryJournal();
      const replaying = await instance(true, {}, { sharedJournal: () => journal });
      const announcements = refuseAnnouncements();
      try {
        await journal.add({ kind: 'tags', tags: ['User:5'] }, true);
        await eventually(() => announcements.refused() >= 6, 5_000, 'three health checks');
        // Not journaled again by its own replay (which would replay it for ever within one check).
        expect(rows).toEqual([{ invalidation: { kind: 'tags', tags: ['User:5'] }, pending: true }]);
      } finally {
        announcements.restore();
      }
      await eventually(() => rows.every((row) => !row.pending), 5_000, 'the replay');
      expect(rows).toHaveLength(1);
      expect(replaying.cache.service.healthReport().connection_healthy).toBe(true);
    });
  });
});
