import type { Logger } from '../logger';
import { TierUnavailableError } from './cache-tier';
import { createCommandClient, pingAll, reconnectDelayMs, type RedisClient, type RedisConnectionOptions } from './redis-client';

export interface RedisPoolOptions extends RedisConnectionOptions {
  /** Connections kept open (REDIS_POOL_SIZE); a Cluster client already holds one per master, so it is not multiplied. */
  readonly size: number;
}

/**
 * A fixed set of command clients used round-robin; see createCommandClient for why nothing ever
 * queues. The set stays whole: a client that ioredis gives up on is connected again.
 */
export class RedisPool {
  private readonly connections: RedisClient[];
  private cursor = 0;
  private closing = false;
  private readonly revivals = new Set<NodeJS.Timeout>();
  private readonly lostListeners: (() => void)[] = [];

  constructor(
    private readonly options: RedisPoolOptions,
    private readonly logger: Logger,
  ) {
    const size = options.topology.kind === 'cluster' ? 1 : options.size;
    this.connections = Array.from({ length: size }, (_, index) => {
      const connection = createCommandClient(options, `trading-gateway-${index}`);
      // Without a listener ioredis would print every reconnection error; the health monitor reports state changes instead.
      connection.on('error', (error: Error) => logger.debug({ err: error, connection: index }, 'redis connection error'));
      this.watch(connection, index);
      return connection;
    });
  }

  /**
   * Called when a connection that was ready closes (see RedisHealth.reportConnectionLost); it may
   * be back before a health check would notice. A Cluster client closes only once every node is gone.
   */
  onConnectionLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /**
   * Reports a ready connection's close (onConnectionLost), and revives an ended one. Our retry
   * strategies never give up, yet ioredis can still end a client for good: a Sentinel
   * client whose failover detector hears +switch-master while the client is asking a sentinel
   * where the master is has its connector closed under it, and that reconnection attempt ends
   * the client instead of retrying (test/integration/redis-pool.sentinel.test.ts). Once every
   * client of the pool has ended, the cache stays on its memory tier for good. So an end we did
   * not ask for is followed by a new connection, with the same backoff as ioredis's own attempts.
   */
  private watch(connection: RedisClient, index: number): void {
    let attempt = 0;
    connection.on('ready', () => {
      attempt = 0;
      connection.once('close', () => {
        if (!this.closing) for (const listener of this.lostListeners) listener();
      });
    });
    connection.on('end', () => {
      if (this.closing) return;
      attempt += 1;
      this.logger.info({ connection: index, attempt }, 'redis connection ended by the client library; connecting it again');
      const revival = setTimeout(() => {
        this.revivals.delete(revival);
        if (!this.closing && connection.status === 'end') connection.connect().catch(() => undefined);
      }, reconnectDelayMs(attempt, this.options.maxReconnectDelayMs));
      revival.unref();
      this.revivals.add(revival);
    });
  }

  get cluster(): boolean {
    return this.connections[0]!.isCluster;
  }

  /** Starts connecting; resolves when one connection is ready or the connect timeout passed (never rejects). */
  async connect(): Promise<boolean> {
    const attempts = this.connections.map((connection) => connection.connect().then(() => true, () => false));
    const results = await Promise.all(attempts);
    return results.some(Boolean);
  }

  /** A ready connection, or TierUnavailableError at once. */
  pick(): RedisClient {
    for (let i = 0; i < this.connections.length; i += 1) {
      this.cursor = (this.cursor + 1) % this.connections.length;
      const connection = this.connections[this.cursor]!;
      if (connection.status === 'ready') return connection;
    }
    throw new TierUnavailableError('redis', 'no connection is ready');
  }

  /** Every master answers (one server, or each master of a Cluster). */
  ping(): Promise<void> {
    return pingAll(this.pick());
  }

  /**
   * QUIT where a connection is up (pending replies arrive first); a down one just stops
   * reconnecting. Then disconnect in every case: after a QUIT, a Sentinel client still holds its
   * failover detector's connections to the sentinels, which only disconnect() ends (they would
   * keep reconnecting, and the process alive, once the sentinels are gone).
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const revival of this.revivals) clearTimeout(revival);
    await Promise.all(
      this.connections.map(async (connection) => {
        if (connection.status === 'ready') await connection.quit().catch(() => undefined);
        connection.disconnect();
      }),
    );
  }
}
