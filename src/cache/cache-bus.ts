import { randomUUID } from 'node:crypto';

import type { Redis } from 'ioredis';

import type { Logger } from '../logger';
import type { Invalidation } from './invalidation-journal';
import { reconnectDelayMs, type RedisClient } from './redis-client';

/** What listeners hear: an invalidation (made here or on another instance), or "forget everything local". */
export type BusEvent = { readonly kind: 'invalidation'; readonly invalidation: Invalidation; readonly remote: boolean } | { readonly kind: 'reset' };

export interface CacheBusOptions {
  readonly channel: string;
  readonly maxReconnectDelayMs: number;
}

/**
 * Tells every gateway instance about every invalidation, over Redis pub/sub, so that in-process
 * copies (the response near cache) are dropped everywhere. Messages can be lost while the
 * subscriber is disconnected, so each reconnection is announced as a reset.
 *
 * The bus reconnects its subscriber itself, with a new connection each time: ioredis's own
 * resubscription leaves failures unhandled, and in a Cluster the next attempt should go to
 * another node (see createSubscriberClient).
 */
export class CacheBus {
  private readonly instanceId = randomUUID();
  private readonly listeners: ((event: BusEvent) => void)[] = [];
  private subscriber: Redis | undefined;
  private attempt = 0;
  private wasReady = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: CacheBusOptions,
    private readonly connectSubscriber: (attempt: number) => Redis,
    private readonly publisher: () => RedisClient,
    private readonly logger: Logger,
  ) {}

  onEvent(listener: (event: BusEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Connects and subscribes; an unreachable Redis is not an error: the bus keeps trying, and a later connection announces a reset. */
  async start(): Promise<void> {
    await this.connect();
  }

  /**
   * Announces an invalidation made here: to this instance's listeners at once, and to the other
   * instances. Resolves once Redis has taken the message (Redis hands it to every subscriber before
   * it answers), so a caller that waits knows the others have been told; never rejects, since
   * delivery is best effort (a subscriber that was away clears everything when it comes back).
   */
  async publish(invalidation: Invalidation): Promise<void> {
    this.emit({ kind: 'invalidation', invalidation, remote: false });
    try {
      await this.publisher().publish(this.options.channel, JSON.stringify({ from: this.instanceId, invalidation }));
    } catch (error) {
      this.logger.debug({ err: error }, 'cache bus: publish failed');
    }
  }

  /** Local listeners only: used when this instance itself must forget (e.g. Redis came back). */
  reset(): void {
    this.emit({ kind: 'reset' });
  }

  /** Disconnects at once: a subscriber has nothing to flush, and QUIT would wait forever on a frozen server. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.subscriber?.disconnect();
    return Promise.resolve();
  }

  /** One subscriber connection; when it ends (or never starts), the next one is tried after a backoff. */
  private async connect(): Promise<void> {
    const subscriber = this.connectSubscriber(this.attempt);
    this.subscriber = subscriber;
    subscriber.on('error', (error: Error) => this.logger.debug({ err: error }, 'cache bus: subscriber error'));
    subscriber.on('message', (_channel: string, message: string) => this.receive(message));
    subscriber.once('end', () => {
      if (this.closed) return;
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => void this.connect(), reconnectDelayMs(this.attempt, this.options.maxReconnectDelayMs));
    });
    try {
      await subscriber.connect();
      await subscriber.subscribe(this.options.channel);
    } catch (error) {
      this.logger.debug({ err: error }, 'cache bus: could not subscribe, will retry');
      subscriber.disconnect();
      return;
    }
    this.attempt = 0;
    if (this.wasReady) {
      this.logger.info('cache bus: resubscribed, dropping in-process copies (messages may have been missed)');
      this.emit({ kind: 'reset' });
    }
    this.wasReady = true;
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
