import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import type { Logger } from '../logger';
import type { Invalidation } from './invalidation-journal';

/** What listeners hear: an invalidation (made here or on another instance), or "forget everything local". */
export type BusEvent = { readonly kind: 'invalidation'; readonly invalidation: Invalidation; readonly remote: boolean } | { readonly kind: 'reset' };

export interface CacheBusOptions {
  readonly url: string;
  readonly password: string | undefined;
  readonly db: number;
  readonly timeoutMs: number;
  readonly maxReconnectDelayMs: number;
  readonly channel: string;
}

/**
 * Tells every gateway instance about every invalidation, over Redis pub/sub, so that in-process
 * copies (the response near cache) are dropped everywhere. Messages can be lost while the
 * subscriber is disconnected, so each reconnection is announced as a reset.
 */
export class CacheBus {
  private readonly instanceId = randomUUID();
  private readonly listeners: ((event: BusEvent) => void)[] = [];
  private readonly subscriber: Redis;
  private wasReady = false;

  constructor(
    private readonly options: CacheBusOptions,
    private readonly publisher: () => Redis,
    private readonly logger: Logger,
  ) {
    this.subscriber = new Redis(options.url, {
      password: options.password,
      db: options.db,
      protocol: 2,
      lazyConnect: true,
      connectTimeout: options.timeoutMs,
      maxRetriesPerRequest: null,
      disableClientInfo: true,
      connectionName: 'trading-gateway-bus',
      // ioredis resubscribes without handling a failure (an unhandled rejection if the connection
      // drops meanwhile, which would end the process); this class resubscribes itself on 'ready'.
      autoResubscribe: false,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), options.maxReconnectDelayMs) + Math.floor(Math.random() * 100),
    });
    this.subscriber.on('error', (error: Error) => logger.debug({ err: error }, 'cache bus: subscriber error'));
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(options.channel).catch((error: unknown) => logger.debug({ err: error }, 'cache bus: subscribe failed'));
      if (this.wasReady) {
        this.logger.info('cache bus: resubscribed, dropping in-process copies (messages may have been missed)');
        this.emit({ kind: 'reset' });
      }
      this.wasReady = true;
    });
    this.subscriber.on('message', (_channel: string, message: string) => this.receive(message));
  }

  onEvent(listener: (event: BusEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Connects (subscribing on every 'ready'); an unreachable Redis is not an error: ioredis keeps trying, and a later connection announces a reset. */
  async start(): Promise<void> {
    await this.subscriber.connect().catch(() => undefined);
  }

  /** Announces a local invalidation here at once and, best effort, to the other instances. */
  publish(invalidation: Invalidation): void {
    this.emit({ kind: 'invalidation', invalidation, remote: false });
    try {
      this.publisher()
        .publish(this.options.channel, JSON.stringify({ from: this.instanceId, invalidation }))
        .catch((error: unknown) => this.logger.debug({ err: error }, 'cache bus: publish failed'));
    } catch (error) {
      this.logger.debug({ err: error }, 'cache bus: no connection to publish on');
    }
  }

  /** Local listeners only: used when this instance itself must forget (e.g. Redis came back). */
  reset(): void {
    this.emit({ kind: 'reset' });
  }

  /** Disconnects at once: a subscriber has nothing to flush, and QUIT would wait forever on a frozen server. */
  close(): Promise<void> {
    this.subscriber.disconnect();
    return Promise.resolve();
  }

  private receive(message: string): void {
    try {
      const parsed = JSON.parse(message) as { from?: unknown; invalidation?: Invalidation };
      if (parsed.from === this.instanceId || parsed.invalidation === undefined) return;
      this.emit({ kind: 'invalidation', invalidation: parsed.invalidation, remote: true });
    } catch (error) {
      this.logger.warn({ err: error }, 'cache bus: unreadable message ignored');
    }
  }

  private emit(event: BusEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
