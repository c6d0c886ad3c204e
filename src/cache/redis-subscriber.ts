import type { Redis } from 'ioredis';

import type { Logger } from '../logger';
import { reconnectDelayMs } from './redis-client';

export interface SubscriberHandlers {
  message(channel: string, message: string): void;
  /** Subscribed; `again` after a lost subscription, when messages may have been missed meanwhile. */
  subscribed(again: boolean): Promise<void> | void;
  /** The subscription ended: from now on messages are missed until `subscribed` is called again. */
  lost(): void;
}

/**
 * A SUBSCRIBE connection that comes back by itself, with a new connection each time: ioredis's
 * own resubscription leaves failures unhandled, and in a Cluster the next attempt should go to
 * another node (see createSubscriberClient). Each loss is reported, since whoever listens must
 * treat it as possibly missed messages.
 */
export class ResilientSubscriber {
  private client: Redis | undefined;
  private attempt = 0;
  private wasReady = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Whether the channels are subscribed right now. */
  subscribed = false;

  constructor(
    private readonly channels: readonly string[],
    private readonly connectClient: (attempt: number) => Redis,
    private readonly maxReconnectDelayMs: number,
    private readonly handlers: SubscriberHandlers,
    private readonly logger: Logger,
    private readonly name: string,
  ) {}

  /** Resolves after the first attempt, subscribed or not (an unreachable Redis is retried in the background). */
  start(): Promise<void> {
    return this.connect();
  }

  /** Redis answers again: try now rather than at the end of the backoff. False when already subscribed. */
  reconnectNow(): boolean {
    if (this.subscribed) return false;
    if (!this.closed && this.reconnectTimer !== undefined) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      void this.connect();
    }
    return true;
  }

  /** Disconnects at once: a subscriber has nothing to flush, and QUIT would wait forever on a frozen server. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.client?.disconnect();
  }

  private async connect(): Promise<void> {
    const client = this.connectClient(this.attempt);
    this.client = client;
    client.on('error', (error: Error) => this.logger.debug({ err: error }, `${this.name}: subscriber error`));
    client.on('message', (channel: string, message: string) => this.handlers.message(channel, message));
    client.once('end', () => {
      if (this.subscribed) {
        this.subscribed = false;
        this.handlers.lost();
      }
      if (this.closed) return;
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        void this.connect();
      }, reconnectDelayMs(this.attempt, this.maxReconnectDelayMs));
    });
    try {
      await client.connect();
      await client.subscribe(...this.channels);
    } catch (error) {
      this.logger.debug({ err: error }, `${this.name}: could not subscribe, will retry`);
      client.disconnect();
      return;
    }
    this.attempt = 0;
    this.subscribed = true;
    const again = this.wasReady;
    this.wasReady = true;
    await this.handlers.subscribed(again);
  }
}
