import type { Lease, LeaseManager } from '../cache/lease';
import type { RedisClient } from '../cache/redis-client';
import { reconnectDelayMs } from '../cache/redis-client';
import type { Logger } from '../logger';
import type { MarketDataProvider, PriceStream, Quote } from './market-data.provider';

export interface QuoteStreamLeaderOptions {
  /** The lease that makes one instance the leader (CacheKeys.lease). */
  readonly leaseKey: string;
  /** Instruments wanted across the fleet: a sorted set, member the instrument, score its expiry (ms). */
  readonly wantedKey: string;
  /** MARKET_STREAM_LEASE_MS: renewed every third of it; a dead leader's lease runs out within it. */
  readonly leaseMs: number;
  /** MARKET_STREAM_HEARTBEAT_TIMEOUT_MS: silence after which the stream is reopened. */
  readonly heartbeatTimeoutMs: number;
  readonly maxReconnectDelayMs: number;
  /**
   * The instruments the gateway serves: the only ones a stream carries. The fleet's wanted list
   * is anyone's to write (an instance of another version, say), and OANDA refuses a whole stream
   * (400, again at every reopening) when one instrument in it is unknown.
   */
  readonly listed: ReadonlySet<string>;
}

export type StreamRole = 'leader' | 'follower' | 'solo';

/** Counters and state for /metrics and the tests. */
export interface StreamReport {
  readonly role: StreamRole;
  readonly instruments: readonly string[];
  readonly opened: number;
  readonly reconnects: number;
  readonly ticks: number;
}

/**
 * Keeps one upstream price stream for the whole fleet. The instance holding a lease in Redis (the
 * leader) opens the provider's stream for every instrument that any instance's clients
 * subscribe to (each instance lists its own in `wantedKey`, renewed with the lease's rhythm), and
 * hands each tick to `onTick`, which refreshes the cache and publishes it to the fleet.
 *
 * - The leader renews its lease every third of `leaseMs`; a leader that dies stops renewing, and
 *   another instance takes the lease at its next try, within `leaseMs` plus a third of it.
 * - A stream silent for `heartbeatTimeoutMs` (no tick, no heartbeat) is closed and reopened with
 *   backoff, as is one that fails.
 * - With Redis unreachable no lease can be held or checked: every instance then streams for its
 *   own clients (`solo`), and steps down at the first renewal that finds Redis and another leader.
 */
export class QuoteStreamLeader {
  private readonly wantedHere = new Map<string, number>();
  private role: StreamRole = 'follower';
  private lease: Lease | undefined;
  private stream: PriceStream | undefined;
  private streaming: readonly string[] = [];
  private lastHeardMs = 0;
  private failures = 0;
  private reopenAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private opened = 0;
  private reconnects = 0;
  private ticks = 0;
  /** Instruments were added here since the fleet last heard: tell the leader once they are listed. */
  private announce = false;

  constructor(
    private readonly provider: MarketDataProvider,
    private readonly leases: LeaseManager,
    private readonly redis: () => RedisClient,
    private readonly onTick: (quote: Quote) => void,
    /** Tells the other instances that the wanted list grew (they call refreshSoon). */
    private readonly announceWanted: () => void,
    private readonly options: QuoteStreamLeaderOptions,
    private readonly logger: Logger,
  ) {}

  report(): StreamReport {
    return { role: this.role, instruments: this.streaming, opened: this.opened, reconnects: this.reconnects, ticks: this.ticks };
  }

  start(): void {
    this.schedule(0);
    this.watchdog = setInterval(() => this.checkHeartbeat(), Math.max(50, Math.floor(this.options.heartbeatTimeoutMs / 4))).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    await this.running;
    this.closeStream();
    await this.lease?.release();
    this.lease = undefined;
  }

  /** Clients here want `symbols`: until the returned function is called. The fleet hears of it at once. */
  want(symbols: readonly string[]): () => void {
    let added = false;
    for (const symbol of symbols) {
      const count = this.wantedHere.get(symbol) ?? 0;
      if (count === 0) added = true;
      this.wantedHere.set(symbol, count + 1);
    }
    if (added) {
      this.announce = true;
      this.refreshSoon();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const symbol of symbols) {
        const count = (this.wantedHere.get(symbol) ?? 1) - 1;
        if (count <= 0) this.wantedHere.delete(symbol);
        else this.wantedHere.set(symbol, count);
      }
    };
  }

  /** Another instance wants a new instrument: the leader looks again now rather than at its next renewal. */
  refreshSoon(): void {
    if (!this.closed) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.running.then(() => this.round()).catch((error: unknown) => this.logger.error({ err: error }, 'market stream: round failed'));
    }, delayMs).unref();
  }

  /** One renewal: advertise what this instance wants, hold or seek the lease, and stream what the fleet wants. */
  private async round(): Promise<void> {
    if (this.closed) return;
    try {
      const announce = this.announce;
      this.announce = false;
      const wanted = await this.advertiseAndRead();
      if (announce) this.announceWanted();
      await this.holdLease();
      if (this.role === 'leader') this.streamFor(union(wanted, [...this.wantedHere.keys()]));
      else this.closeStream();
    } catch (error) {
      // Redis cannot be asked: no lease means nothing; stream for this instance's clients.
      if (this.role !== 'solo') this.logger.warn({ err: error }, 'market stream: Redis unreachable; streaming for this instance only until it is back');
      this.role = 'solo';
      this.dropLease();
      this.streamFor([...this.wantedHere.keys()]);
    }
    if (!this.closed) this.schedule(Math.floor(this.options.leaseMs / 3));
  }

  /** Lists this instance's instruments (scored by expiry) and reads the fleet's. */
  private async advertiseAndRead(): Promise<string[]> {
    const redis = this.redis();
    const now = Date.now();
    const expiry = now + this.options.leaseMs * 2;
    const mine = [...this.wantedHere.keys()];
    const pipeline = redis.multi();
    if (mine.length > 0) pipeline.zadd(this.options.wantedKey, 'GT', ...mine.flatMap((symbol) => [expiry, symbol]));
    pipeline.zremrangebyscore(this.options.wantedKey, '-inf', now);
    pipeline.pexpire(this.options.wantedKey, this.options.leaseMs * 4);
    pipeline.zrange(this.options.wantedKey, '0', '-1');
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('the wanted instruments could not be read');
    return results.at(-1)?.[1] as string[];
  }

  private async holdLease(): Promise<void> {
    if (this.lease !== undefined) {
      if (await this.lease.renew(this.options.leaseMs)) return;
      this.logger.warn('market stream: lost the leader lease; another instance streams now');
      this.dropLease();
    }
    const lease = await this.leases.tryAcquire(this.options.leaseKey, this.options.leaseMs);
    if (lease !== null && !lease.shared) {
      // Granted locally: Redis did not answer. Treated as an outage by round().
      await lease.release();
      throw new Error('the lease could not be asked for');
    }
    this.lease = lease ?? undefined;
    const role: StreamRole = lease === null ? 'follower' : 'leader';
    if (role !== this.role) this.logger.info({ from: this.role, to: role }, 'market stream: role changed');
    this.role = role;
  }

  /** Forgets a lease that lapsed (or cannot be renewed): released, so that it can be sought again. */
  private dropLease(): void {
    // Releasing deletes it in Redis only if it is still ours; it also frees the LeaseManager's local hold.
    void this.lease?.release();
    this.lease = undefined;
  }

  /** Opens (or reopens, for a new set of instruments) the provider's stream; none for no instrument. */
  private streamFor(instruments: readonly string[]): void {
    const sorted = instruments.filter((symbol) => this.options.listed.has(symbol)).sort();
    if (this.stream !== undefined && sameList(sorted, this.streaming)) return;
    this.closeStream();
    if (sorted.length === 0 || Date.now() < this.reopenAtMs) return;
    this.streaming = sorted;
    this.lastHeardMs = Date.now();
    this.opened += 1;
    this.logger.info({ instruments: sorted, provider: this.provider.name, role: this.role }, 'market stream: opened');
    const stream = this.provider.streamPrices(sorted, {
      tick: (quote) => {
        if (this.stream !== stream) return;
        this.lastHeardMs = Date.now();
        this.failures = 0;
        this.ticks += 1;
        this.onTick(quote);
      },
      heartbeat: () => {
        if (this.stream === stream) this.lastHeardMs = Date.now();
      },
      ended: (error) => {
        if (this.stream === stream) this.reopenLater(error);
      },
    });
    this.stream = stream;
  }

  private checkHeartbeat(): void {
    if (this.stream === undefined || Date.now() - this.lastHeardMs < this.options.heartbeatTimeoutMs) return;
    this.reopenLater(new Error(`no tick or heartbeat for ${this.options.heartbeatTimeoutMs} ms`));
  }

  /** A failed or silent stream: closed now, reopened after a backoff by the next round. */
  private reopenLater(error: unknown): void {
    this.failures += 1;
    this.reconnects += 1;
    const delayMs = reconnectDelayMs(this.failures, this.options.maxReconnectDelayMs);
    this.logger.warn({ err: error, retryInMs: delayMs }, 'market stream: stream lost; reopening');
    this.closeStream();
    this.reopenAtMs = Date.now() + delayMs;
    this.schedule(delayMs);
  }

  private closeStream(): void {
    this.stream?.close();
    this.stream = undefined;
    this.streaming = [];
  }
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}
