import { type Invalidation, InvalidationJournal } from '../../src/cache/invalidation-journal';
import { RedisHealth } from '../../src/cache/redis-health';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

/** Which outages replay the invalidations Redis had already taken (InvalidationJournal.reopen). */
describe('the Redis health monitor after an outage', () => {
  const logger = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));
  const made: Invalidation = { kind: 'keys', keys: ['p:users:1'] };

  function monitor(options: { everyOutageMayLoseWrites?: boolean } = {}) {
    const journal = new InvalidationJournal({ maxEntries: 10, everythingPattern: 'p:*', lossWindowMs: 10_000 });
    const replayed: Invalidation[] = [];
    const health = new RedisHealth(
      { ping: () => Promise.resolve(), replay: (invalidation) => Promise.resolve(void replayed.push(invalidation)), beforeSwitchBack: () => undefined },
      journal,
      { checkIntervalMs: 100, unhealthyAfterMs: 30_000, ...options },
      logger,
    );
    return { health, journal, replayed };
  }

  async function afterOutage(cause: (health: RedisHealth) => void, options?: { everyOutageMayLoseWrites?: boolean }): Promise<Invalidation[]> {
    const { health, journal, replayed } = monitor(options);
    await health.check();
    journal.remember(made);
    cause(health);
    expect(health.redisServing).toBe(false);
    await health.check();
    expect(health.redisServing).toBe(true);
    return replayed;
  }

  it('replays them when a connection was lost: the server may come back as another one', async () => {
    expect(await afterOutage((health) => health.reportConnectionLost())).toEqual([made]);
  });

  it('does not when commands failed on connections that stayed up (a slow or frozen server keeps its data)', async () => {
    expect(await afterOutage((health) => health.reportFailure(new Error('Command timed out')))).toEqual([]);
  });

  it('does after any outage where lost connections cannot be seen (a Cluster)', async () => {
    expect(await afterOutage((health) => health.reportFailure(new Error('Command timed out')), { everyOutageMayLoseWrites: true })).toEqual([made]);
  });

  it('replays them once: the next outage, by a timeout, replays nothing', async () => {
    const { health, journal, replayed } = monitor();
    await health.check();
    journal.remember(made);
    health.reportConnectionLost();
    await health.check();
    health.reportFailure(new Error('Command timed out'));
    await health.check();
    expect(replayed).toEqual([made]);
  });
});
