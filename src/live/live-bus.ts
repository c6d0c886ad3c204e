import { randomUUID } from 'node:crypto';

import type { Redis } from 'ioredis';

import type { RedisClient } from '../cache/redis-client';
import { ResilientSubscriber } from '../cache/redis-subscriber';
import type { Logger } from '../logger';

/** One live event as the fleet sees it: a topic (`quote:EUR_USD`, `signals`), its data, and its log id if it has one. */
export interface LiveMessage {
  readonly topic: string;
  readonly data: unknown;
  /** Set for events kept in an event log (see EventLog): replayable and ordered by it. */
  readonly id?: string;
}

export interface LiveBusOptions {
  readonly channel: string;
  readonly maxReconnectDelayMs: number;
}

/** The envelope on the channel: `from` lets each instance skip what it published itself (it delivered those at once). */
export interface LiveEnvelope extends LiveMessage {
  readonly from: string;
}

/**
 * Carries live events to every gateway instance over one Redis pub/sub channel. What an instance
 * publishes reaches its own subscribers at once and the others through Redis; when Redis cannot
 * take it, the local delivery still happens, so an instance cut off from Redis keeps serving its
 * own clients (its own upstream stream takes over then, see QuoteStreamLeader).
 *
 * Pub/sub delivers nothing that was published while a subscriber was away: `onResumed` tells the
 * event log to read what it missed from its stream.
 */
export class LiveBus {
  readonly instanceId = randomUUID();
  private readonly listeners: ((message: LiveMessage) => void)[] = [];
  private readonly resumedListeners: (() => void)[] = [];
  private readonly subscriber: ResilientSubscriber;

  constructor(
    private readonly options: LiveBusOptions,
    connectSubscriber: (attempt: number) => Redis,
    private readonly publisher: () => RedisClient,
    private readonly logger: Logger,
  ) {
    this.subscriber = new ResilientSubscriber(
      [options.channel],
      connectSubscriber,
      options.maxReconnectDelayMs,
      {
        message: (_channel, message) => this.receive(message),
        subscribed: (again) => {
          if (!again) return;
          this.logger.info('live bus: resubscribed; catching up on missed events');
          for (const listener of this.resumedListeners) listener();
        },
        lost: () => this.logger.warn('live bus: subscription lost; live events from other instances pause until it is back'),
      },
      logger,
      'live bus',
    );
  }

  get channel(): string {
    return this.options.channel;
  }

  /** Whether events from other instances arrive right now. */
  get connected(): boolean {
    return this.subscriber.subscribed;
  }

  onMessage(listener: (message: LiveMessage) => void): void {
    this.listeners.push(listener);
  }

  onResumed(listener: () => void): void {
    this.resumedListeners.push(listener);
  }

  start(): Promise<void> {
    return this.subscriber.start();
  }

  close(): void {
    this.subscriber.close();
  }

  /** Delivers here at once and to the fleet through Redis; never rejects (false: only this instance heard it). */
  async publish(message: LiveMessage): Promise<boolean> {
    this.deliver(message);
    try {
      const envelope: LiveEnvelope = { ...message, from: this.instanceId };
      await this.publisher().publish(this.options.channel, JSON.stringify(envelope));
      return true;
    } catch (error) {
      this.logger.debug({ err: error, topic: message.topic }, 'live bus: publish failed; delivered on this instance only');
      return false;
    }
  }

  /** To this instance's subscribers only. */
  deliver(message: LiveMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        this.logger.error({ err: error, topic: message.topic }, 'live bus: a listener failed');
      }
    }
  }

  private receive(text: string): void {
    let envelope: Partial<LiveEnvelope>;
    try {
      envelope = JSON.parse(text) as Partial<LiveEnvelope>;
    } catch (error) {
      this.logger.warn({ err: error }, 'live bus: unreadable message ignored');
      return;
    }
    if (envelope.from === this.instanceId || typeof envelope.topic !== 'string') return;
    this.deliver(envelope.id === undefined ? { topic: envelope.topic, data: envelope.data } : { topic: envelope.topic, data: envelope.data, id: envelope.id });
  }
}
