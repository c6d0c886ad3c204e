import { eventually } from './eventually';
import { RedisServer } from './redis-server';

/** The name Sentinel monitors the master under. */
export const MASTER_NAME = 'gateway-master';

/**
 * A master, a replica and a Sentinel of the test's own, on free ports. The Sentinel declares the
 * master down after one second without answers, and alone forms the quorum, so that killing the
 * master promotes the replica within a few seconds.
 */
export class RedisSentinelGroup {
  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
    readonly sentinel: RedisServer,
  ) {}

  static async start(): Promise<RedisSentinelGroup> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start({ args: () => ['--replicaof', '127.0.0.1', String(master.port)] });
    const sentinel = await RedisServer.start({
      configFile: () =>
        [
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          '',
        ].join('\n'),
      args: () => ['--sentinel'],
    });
    const group = new RedisSentinelGroup(master, replica, sentinel);
    await eventually(async () => (await group.info(replica, 'replication')).includes('master_link_status:up'), 15_000, 'replica in sync');
    await eventually(async () => (await group.sentinelCommand('REPLICAS', MASTER_NAME)).includes(String(replica.port)), 15_000, 'sentinel sees the replica');
    return group;
  }

  /** `REDIS_SENTINELS`. */
  get sentinels(): string {
    return `127.0.0.1:${this.sentinel.port}`;
  }

  /** The port of the master Sentinel currently names. */
  async masterPort(): Promise<number> {
    const reply = await this.sentinelCommand('GET-MASTER-ADDR-BY-NAME', MASTER_NAME);
    return Number(reply.trim().split('\n')[1]);
  }

  async get(server: RedisServer, key: string): Promise<string> {
    return server.cli('GET', key);
  }

  async stop(): Promise<void> {
    await Promise.all([this.sentinel.stop(), this.replica.stop(), this.master.stop()]);
  }

  async info(server: RedisServer, section: string): Promise<string> {
    return server.cli('INFO', section);
  }

  private async sentinelCommand(...args: string[]): Promise<string> {
    return this.sentinel.cli('SENTINEL', ...args);
  }
}
