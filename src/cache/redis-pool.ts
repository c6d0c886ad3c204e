import { Redis, type RedisOptions } from 'ioredis';

import type { Logger } from '../logger';
import { TierUnavailableError } from './cache-tier';

export interface RedisPoolOptions {
  /** redis:// or rediss:// (TLS) URL. */
  readonly url: string;
  readonly password: string | undefined;
  readonly db: number;
  /** Connections kept open (REDIS_POOL_SIZE). */
  readonly size: number;
  /** Budget of one command, and of connecting (REDIS_TIMEOUT). */
  readonly timeoutMs: number;
  /** Longest wait between reconnection attempts; attempts back off exponentially up to it, with jitter. */
  readonly maxReconnectDelayMs: number;
}

/**
 * A fixed set of ioredis connections used round-robin. Settings chosen so that no command ever
 * waits behind a dead connection: a command timeout, no offline queue (a command on a connection
 * that is not ready fails at once), no retries per request and no resending after reconnect —
 * the cache service answers from memory instead, and keeps reconnecting in the background.
 */
export class RedisPool {
  private readonly connections: Redis[];
  private cursor = 0;

  constructor(options: RedisPoolOptions, logger: Logger) {
    const base: RedisOptions = {
      password: options.password,
      db: options.db,
      protocol: 2,
      lazyConnect: true,
      commandTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      disableClientInfo: true,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), options.maxReconnectDelayMs) + Math.floor(Math.random() * 100),
    };
    this.connections = Array.from({ length: options.size }, (_, index) => {
      const connection = new Redis(options.url, { ...base, connectionName: `trading-gateway-${index}` });
      // Without a listener ioredis would print every reconnection error; the health monitor reports state changes instead.
      connection.on('error', (error: Error) => logger.debug({ err: error, connection: index }, 'redis connection error'));
      return connection;
    });
  }

  /** Starts connecting; resolves when one connection is ready or the connect timeout passed (never rejects). */
  async connect(): Promise<boolean> {
    const attempts = this.connections.map((connection) => connection.connect().then(() => true, () => false));
    const results = await Promise.all(attempts);
    return results.some(Boolean);
  }

  /** A ready connection, or TierUnavailableError at once. */
  pick(): Redis {
    for (let i = 0; i < this.connections.length; i += 1) {
      this.cursor = (this.cursor + 1) % this.connections.length;
      const connection = this.connections[this.cursor]!;
      if (connection.status === 'ready') return connection;
    }
    throw new TierUnavailableError('redis', 'no connection is ready');
  }

  get readyCount(): number {
    return this.connections.filter((connection) => connection.status === 'ready').length;
  }

  /** QUIT where a connection is up (pending replies arrive first); a down one just stops reconnecting. */
  async close(): Promise<void> {
    await Promise.all(
      this.connections.map(async (connection) => {
        if (connection.status !== 'ready') return connection.disconnect();
        await connection.quit().catch(() => connection.disconnect());
      }),
    );
  }
}
