import type { Logger } from '../logger';
import type { Invalidation, InvalidationJournal } from './invalidation-journal';

/**
 * healthy: Redis serves. degraded: the memory tier serves while Redis recovers, or Redis still
 * serves but has left a health PING unanswered for too long (frozen or overloaded, before any
 * command has timed out). unhealthy: either has lasted too long.
 */
export type CacheStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface RedisHealthOptions {
  /** Between PINGs (REDIS_HEALTH_CHECK_INTERVAL_MS). */
  readonly checkIntervalMs: number;
  /** Time on the memory tier after which the status is `unhealthy` rather than `degraded`. */
  readonly unhealthyAfterMs: number;
  /**
   * Whether any outage may have cost Redis what it had just acknowledged, even with no connection
   * seen lost (a Cluster, whose client hides its nodes' connections); see reportConnectionLost.
   */
  readonly everyOutageMayLoseWrites?: boolean;
  /**
   * A health PING unanswered for longer than this turns the status `degraded` at once, without
   * waiting for it (or any command) to time out. Default: one check interval, at least
   * MIN_STALLED_PING_MS; a healthy Redis answers in a millisecond or two.
   */
  readonly stalledPingMs?: number;
}

/** The default stall threshold never goes below this: a busy machine may delay one answer that long. */
const MIN_STALLED_PING_MS = 500;

export interface RedisHealthPorts {
  ping(): Promise<void>;
  /** Applies one journaled invalidation to Redis; throws when Redis cannot. */
  replay(invalidation: Invalidation): Promise<void>;
  /** Called just before Redis serves again: whatever the memory tier holds may be stale by now. */
  beforeSwitchBack(): void;
  /**
   * Applies what other instances (or this one) journaled where every instance can read it (see
   * SharedJournal); throws when it cannot. Run at every check: Redis does not serve again before
   * it has succeeded, and while Redis serves it picks up what an instance cut off from Redis
   * journaled meanwhile.
   */
  replayShared?(): Promise<void>;
  /**
   * Brings the memory tier up to date with the invalidations the fleet made (see
   * SharedJournalFollower); throws when it cannot. Run at every check while the memory tier serves.
   */
  followShared?(memorySinceMs: number): Promise<void>;
}

type State = { readonly serving: 'redis' } | { readonly serving: 'memory'; readonly sinceMs: number; readonly reason: string };

/**
 * Decides which tier serves. A failed command switches to the memory tier at once (so no request
 * waits longer than one command timeout); a periodic PING, once it succeeds, replays the journal
 * and only then switches back. Reconnection itself (exponential backoff with jitter) is ioredis's.
 */
export class RedisHealth {
  private state: State;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  /** When the PING under way was sent. */
  private pingSentAtMs: number | undefined;
  private readonly stalledPingMs: number;
  /** Whether this outage may have cost Redis writes it had acknowledged (see reportConnectionLost). */
  private writesMayBeLost = false;
  /** Whether the last replay of the shared journal failed (logged once, until it works again). */
  private sharedFailing = false;
  /** Whether the last read of the shared journal for the memory tier failed (logged once, until it works again). */
  private followFailing = false;

  constructor(
    private readonly ports: RedisHealthPorts,
    private readonly journal: InvalidationJournal,
    private readonly options: RedisHealthOptions,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.state = { serving: 'memory', sinceMs: now(), reason: 'not connected yet' };
    this.stalledPingMs = options.stalledPingMs ?? Math.max(options.checkIntervalMs, MIN_STALLED_PING_MS);
  }

  get redisServing(): boolean {
    return this.state.serving === 'redis';
  }

  status(): CacheStatus {
    const now = this.now();
    let troubleSinceMs: number;
    if (this.state.serving === 'memory') troubleSinceMs = this.state.sinceMs;
    else if (this.pingSentAtMs !== undefined && now - this.pingSentAtMs > this.stalledPingMs) troubleSinceMs = this.pingSentAtMs;
    else return 'healthy';
    return now - troubleSinceMs >= this.options.unhealthyAfterMs ? 'unhealthy' : 'degraded';
  }

  /** A Redis command failed: serve from memory until a check brings Redis back. */
  reportFailure(error: unknown): void {
    this.switchToMemory(error, this.now());
  }

  /**
   * A connection that was up closed. The server may come back as another one (a failover, a
   * restart after a crash) without what the last one had just acknowledged: recent invalidations
   * are replayed before Redis serves again. A slow or frozen server that kept its connections
   * keeps its data, so a timeout alone replays only what was journaled.
   */
  reportConnectionLost(): void {
    this.writesMayBeLost = true;
    this.switchToMemory(new Error('a Redis connection was lost'), this.now());
  }

  /** Whether the shared journal was replayed (or there is none); a failure is retried at the next check. */
  private async replayShared(): Promise<boolean> {
    if (this.ports.replayShared === undefined) return true;
    try {
      await this.ports.replayShared();
      if (this.sharedFailing) this.logger.info('cache: the shared invalidation journal is readable again');
      this.sharedFailing = false;
      return true;
    } catch (error) {
      if (!this.sharedFailing) {
        const waiting = this.state.serving === 'memory' ? '; Redis does not serve again before it is replayed' : '';
        this.logger.warn({ err: error }, `cache: the shared invalidation journal could not be replayed${waiting}`);
      }
      this.sharedFailing = true;
      return false;
    }
  }

  /** `sinceMs`: when the trouble began (a failed PING's, when it was sent). */
  private switchToMemory(error: unknown, sinceMs: number): void {
    if (this.state.serving === 'memory') return;
    const reason = error instanceof Error ? error.message : String(error);
    this.state = { serving: 'memory', sinceMs, reason };
    this.logger.info({ reason }, 'cache: Redis unavailable, serving from the in-memory tier');
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  /** One health check; concurrent callers share it. */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async runCheck(): Promise<void> {
    await this.checkRedis();
    if (this.state.serving === 'memory') await this.followShared(this.state.sinceMs);
  }

  private async followShared(memorySinceMs: number): Promise<void> {
    if (this.ports.followShared === undefined) return;
    try {
      await this.ports.followShared(memorySinceMs);
      if (this.followFailing) this.logger.info('cache: the shared invalidation journal is readable again; the memory tier follows the fleet\'s invalidations');
      this.followFailing = false;
    } catch (error) {
      if (!this.followFailing) this.logger.warn({ err: error }, 'cache: the shared invalidation journal could not be read; the memory tier may miss other instances\' invalidations until it can');
      this.followFailing = true;
    }
  }

  private async checkRedis(): Promise<void> {
    const sentAtMs = this.now();
    this.pingSentAtMs = sentAtMs;
    try {
      await this.ports.ping();
    } catch (error) {
      // The outage began when the PING went unanswered, not when its timeout said so.
      this.switchToMemory(error, sentAtMs);
      return;
    } finally {
      this.pingSentAtMs = undefined;
    }
    if (this.state.serving === 'redis') {
      await this.replayShared();
      return;
    }
    // What this instance journaled in the shared journal too is applied by replaying that one.
    const kept = this.journal.sharedNow();
    if (!(await this.replayShared())) return;
    this.journal.applied(kept);
    // What Redis took shortly before the outage may not have survived it (the replica a failover
    // promoted, a server restarted after a crash): replayed too, first, on every attempt.
    if (this.writesMayBeLost || this.options.everyOutageMayLoseWrites === true) this.journal.reopen(this.state.sinceMs);
    // Replay in order; stop at the first failure and keep what is left for the next check.
    for (let next = this.journal.peek(); next !== undefined; next = this.journal.peek()) {
      try {
        await this.ports.replay(next);
      } catch {
        return;
      }
      this.journal.done(next);
    }
    // No await between the empty journal and the switch: nothing can slip in between.
    const outageMs = this.now() - this.state.sinceMs;
    this.ports.beforeSwitchBack();
    this.state = { serving: 'redis' };
    this.writesMayBeLost = false;
    this.logger.info({ outageMs }, 'cache: Redis reachable, serving from Redis');
  }
}
