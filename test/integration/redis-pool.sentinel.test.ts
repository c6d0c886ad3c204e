import { RedisPool } from '../../src/cache/redis-pool';
import type { RedisClient } from '../../src/cache/redis-client';
import { createLogger } from '../../src/logger';
import { loadConfig } from '../../src/config';
import { eventually } from '../helpers/eventually';
import { MASTER_NAME, RedisSentinelGroup } from '../helpers/redis-sentinel';
import { TcpProxy } from '../helpers/tcp-proxy';

const SIZE = 8;

/**
 * The pool keeps all its connections through a Sentinel failover. Behind a slow sentinel, a
 * client spends much of each reconnection attempt asking it where the master is; ioredis ends a
 * client for good when +switch-master arrives during that question. Without the pool's revival,
 * some (in a loaded CI run, all) of the connections stay ended after the failover.
 */
describe('the Redis pool through a slow Sentinel failover', () => {
  let group: RedisSentinelGroup;
  let proxy: TcpProxy;
  let pool: RedisPool;

  beforeAll(async () => {
    group = await RedisSentinelGroup.start();
    proxy = await TcpProxy.start(group.sentinel.port, { delayMs: 150 });
    pool = new RedisPool(
      {
        topology: { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: proxy.port }], masterName: MASTER_NAME, sentinelPassword: undefined },
        password: undefined,
        db: 0,
        size: SIZE,
        timeoutMs: 1_000,
        maxReconnectDelayMs: 200,
      },
      createLogger(loadConfig({ LOG_LEVEL: 'silent' })),
    );
    await pool.connect();
  });

  afterAll(async () => {
    await pool.close();
    await proxy.stop();
    await group.stop();
  });

  /** The distinct connections pick() hands out: only ready ones are. */
  function readyConnections(): Set<RedisClient> {
    const ready = new Set<RedisClient>();
    for (let i = 0; i < SIZE; i += 1) {
      try {
        ready.add(pool.pick());
      } catch {
        // none ready
      }
    }
    return ready;
  }

  it('has every connection ready again on the promoted replica', async () => {
    await eventually(() => readyConnections().size === SIZE, 10_000, 'all connections ready');
    await group.master.kill();
    await eventually(async () => (await group.masterPort()) === group.replica.port, 20_000, 'Sentinel promotes the replica');

    await eventually(() => readyConnections().size === SIZE, 15_000, 'every connection back');
    const written = [...readyConnections()].map((connection, index) => connection.set(`pool:${index}`, 'after the failover'));
    expect(await Promise.all(written)).toEqual(Array(SIZE).fill('OK'));
    expect(await group.get(group.replica, `pool:${SIZE - 1}`)).toBe('after the failover');
  });

  it('connects nothing again once closed', async () => {
    const connections = readyConnections();
    await pool.close();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect([...connections].map((connection) => connection.status)).toEqual(Array(SIZE).fill('end'));
    expect(() => pool.pick()).toThrow('no connection is ready');
  });
});
