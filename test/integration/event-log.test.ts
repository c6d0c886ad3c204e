import { type Cache, createCache } from '../../src/cache/create-cache';
import { loadConfig } from '../../src/config';
import { EventLog, type Replay } from '../../src/live/event-log';
import { LiveBus } from '../../src/live/live-bus';
import { createLogger, type Logger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { RedisServer } from '../helpers/redis-server';

/**
 * The signal events' log on a Redis of the test's own, which it restarts: a client that resumes
 * from its last event id gets every event it missed, or is told that some may be gone (a gap).
 * Never the events that happen to be left, as if they were all.
 */
describe('the live event log across Redis outages and restarts', () => {
  let redis: RedisServer;
  let cache: Cache;
  let bus: LiveBus;
  let log: EventLog;
  let logger: Logger;

  beforeEach(async () => {
    redis = await RedisServer.start();
    const config = loadConfig({
      REDIS_URL: redis.url,
      REDIS_TIMEOUT: '1',
      REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
      REDIS_MAX_RECONNECT_DELAY_MS: '200',
      CACHE_KEY_PREFIX: 'events',
      LOG_LEVEL: 'silent',
    });
    logger = createLogger(config);
    cache = createCache(config, logger);
    await cache.start();
    bus = await startBus();
    log = logOn(bus);
  });

  /** An instance's bus and log, as the composition root makes them. */
  const startBus = async () => {
    const started = new LiveBus({ channel: cache.keys.live('channel'), maxReconnectDelayMs: 200 }, cache.connections.subscriber, cache.connections.pick, logger);
    await started.start();
    return started;
  };
  const logOn = (on: LiveBus) => new EventLog({ streamKey: cache.keys.live('events'), topic: 'signals', retentionSeconds: 600, maxReplay: 100, available: () => cache.scripts.available() }, on, cache.connections.pick, logger);

  afterEach(async () => {
    bus.close();
    await cache.close();
    await redis.stop();
  });

  const dataOf = (replay: Replay) => (replay.kind === 'events' ? replay.events.map((event) => event.data) : replay);

  const redisDown = async () => {
    await redis.kill();
    await eventually(() => !cache.scripts.available(), 5_000, 'the outage noticed');
  };

  /** Started again from what it saved last: nothing, unless the test took a snapshot. */
  const redisRestarted = async () => {
    await redis.restart();
    await eventually(() => cache.scripts.available(), 15_000, 'back on Redis');
  };

  it('replays the events after the one a client saw last', async () => {
    const seen = await log.append('A');
    await log.append('B');
    await log.append('C');
    expect(dataOf(await log.replay(seen))).toEqual(['B', 'C']);
  });

  it('says "gap" once Redis has lost the stream (restarted without persistence), rather than replaying only what came after', async () => {
    const seen = await log.append('A');
    await log.append('missed, then lost with the stream');
    await redisDown();
    await redisRestarted();
    await log.append('after the restart');
    expect(await log.replay(seen)).toEqual({ kind: 'gap', reason: expect.stringContaining(`Event ${seen} is no longer in the event log`) });
  });

  it('says "gap" across events Redis acknowledged and then lost (restarted from an older snapshot), and replays after the last of them', async () => {
    const seen = await log.append('A');
    const lastKept = await log.append('B');
    expect(await redis.cli('SAVE')).toBe('OK');
    const lostId = await log.append('acknowledged, heard, then lost');
    await redisDown();
    await redisRestarted();
    expect(await redis.cli('XLEN', cache.keys.live('events'))).toBe('2');
    // Before anything is appended: this instance heard an event the stream does not hold.
    expect(await log.replay(lastKept)).toEqual({ kind: 'gap', reason: expect.stringContaining(`Events after ${lastKept} were lost`) });
    // An instance started since never heard the lost event, and cannot tell until the next append
    // (by an instance that heard it) marks where it was.
    const laterBus = await startBus();
    try {
      const later = logOn(laterBus);
      expect(dataOf(await later.replay(lastKept))).toEqual([]);
      await log.append('after the restart');
      expect(await later.replay(lastKept)).toEqual({ kind: 'gap', reason: expect.stringContaining(`Events after ${lastKept} were lost`) });
    } finally {
      laterBus.close();
    }
    expect(await log.replay(seen)).toEqual({ kind: 'gap', reason: expect.stringContaining(`Events after ${seen} were lost in a Redis restart or failover`) });
    // A client that had the lost event missed nothing after it.
    expect(dataOf(await log.replay(lostId))).toEqual(['after the restart']);
  });

  it('replays from an event kept here during an outage both the outage’s later events and those in Redis since it came back', async () => {
    await log.append('before the outage');
    await redisDown();
    const seen = await log.append('during the outage');
    expect(seen).toMatch(/^L\d+-\d+$/);
    await log.append('later in the outage');
    await redisRestarted();
    const afterwards = await log.append('after the outage');
    expect(afterwards).not.toMatch(/^L/);
    expect(dataOf(await log.replay(seen))).toEqual(['later in the outage', 'after the outage']);
  });

  it('says "gap" for an outage event this instance never kept (another instance’s, or one from before a restart)', async () => {
    await redisDown();
    await log.append('kept here');
    expect(await log.replay(`L${Date.now() - 1_000}-0`)).toEqual({ kind: 'gap', reason: expect.stringContaining('no longer in the event log') });
  });
});
