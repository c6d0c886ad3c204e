import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import type { Redis } from 'ioredis';

import type { Logger } from '../logger';
import type { Invalidation } from './invalidation-journal';
import type { RedisClient } from './redis-client';
import { ResilientSubscriber } from './redis-subscriber';

/** What listeners hear: an invalidation (made here or on another instance), or "forget everything local". */
export type BusEvent =
  /** `id`, for one announced by another instance: its writer's name for it (see `completed`). */
  | { readonly kind: 'invalidation'; readonly invalidation: Invalidation; readonly remote: boolean; readonly id?: string }
  /** Another instance's invalidation `id` is complete: its writer has deleted behind every late write (or it has been long enough). */
  | { readonly kind: 'completed'; readonly id: string }
  | { readonly kind: 'reset' };

export interface CacheBusOptions {
  readonly channel: string;
  /** Sorted set of live instances (member: instance id, score: lease expiry in Redis time, ms). */
  readonly membersKey: string;
  /**
   * An instance's membership lasts this long after its last heartbeat (CACHE_BUS_MEMBER_LEASE_MS).
   * It is also the longest an instance cut off from the bus may go on using its near copies.
   */
  readonly memberLeaseMs: number;
  /** Longest a write waits for the other instances to acknowledge its invalidation (CACHE_BUS_ACK_TIMEOUT_MS). */
  readonly ackTimeoutMs: number;
  readonly maxReconnectDelayMs: number;
}

/** What the bus reports after announcing an invalidation. */
export interface Announcement {
  /** What the other instances know it by (see complete). */
  readonly id: string;
  /** Whether it could not be sent (Redis refused the PUBLISH): no other instance heard it. */
  readonly failed: boolean;
  /** Other instances that acknowledged having applied it. */
  readonly acknowledged: number;
  /** Other instances that did not answer in time, and were removed from the membership (they reset when they notice). */
  readonly evicted: number;
}

/**
 * Renews a membership, with Redis's own clock so that instances' clocks need not agree; drops
 * expired members. Returns 1 when the member was (re)added: it had expired or been evicted.
 */
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return added`;

/** The members whose lease has not run out. */
const LIVE_MEMBERS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')`;

/**
 * The share of the acknowledgement timeout an event-loop turn may take before this instance
 * counts as possibly evicted (see watchForStalls); the rest is left for the announcement and the
 * acknowledgement to travel.
 */
const STALL_SHARE = 0.75;

interface PendingAnnouncement {
  readonly waitingFor: Set<string>;
  readonly done: () => void;
}

/**
 * Tells every gateway instance about every invalidation, over Redis pub/sub, so that in-process
 * copies (the response near cache) are dropped everywhere, and waits until they have been.
 *
 * A PUBLISH that Redis acknowledged only means the message left for the subscribers: in a
 * Cluster it reaches other nodes' subscribers later, and on any topology the other instance may
 * answer a read before it has read the message from its socket. So each instance acknowledges
 * every invalidation once it has applied it (and once its own writes that were under way have
 * landed, so the writer can delete once more behind them), and the writer waits for the
 * acknowledgement of every live member before its write answers.
 *
 * Live members are a sorted set renewed by heartbeats. A heartbeat is sent only after the
 * instance has heard its own previous ping back through its subscriber, so a membership proves
 * that the instance is still receiving. An instance uses near copies only while its membership is
 * fresh (`coherent`); a member that does not acknowledge in time is evicted and drops everything
 * local when its next heartbeat finds it was re-added. Hence the guarantee in RELIABILITY.md: once
 * a write has answered, no instance serves an older near copy, except one cut off from Redis for
 * less than `memberLeaseMs`.
 *
 * The subscriber reconnects by itself (ResilientSubscriber); each loss drops in-process copies.
 */
export class CacheBus {
  private readonly instanceId = randomUUID();
  private readonly replyChannel: string;
  private readonly listeners: ((event: BusEvent) => void)[] = [];
  private readonly pending = new Map<string, PendingAnnouncement>();
  private readonly subscriber: ResilientSubscriber;
  private closed = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private announcements = 0;
  /** Other instances' invalidations heard and not yet complete, each completed here when its timer fires first. */
  private readonly incomplete = new Map<string, NodeJS.Timeout>();
  /** Until when (local clock) near copies may be used: set by each heartbeat that went round. */
  private coherentUntilMs = 0;
  /** Whether the last heartbeat found this instance still a member (false: evicted or expired). */
  private member = false;
  /** Resolves once writes that this instance had under way have landed (CacheService supplies it). */
  private writesSettled: () => Promise<void> = () => Promise.resolve();
  /** When the stall watch last ran (performance.now()): see loopStalled. */
  private lastTurnMs = performance.now();
  private stallWatch: NodeJS.Timeout | undefined;
  /** Whether anything has asked to use copies or write (`coherent`): before, a stall is the process's own start-up. */
  private inService = false;

  constructor(
    private readonly options: CacheBusOptions,
    connectSubscriber: (attempt: number) => Redis,
    private readonly publisher: () => RedisClient,
    private readonly logger: Logger,
  ) {
    this.replyChannel = `${options.channel}:ack:${this.instanceId}`;
    this.subscriber = new ResilientSubscriber(
      [options.channel, this.replyChannel],
      connectSubscriber,
      options.maxReconnectDelayMs,
      {
        message: (channel, message) => this.receive(channel, message),
        subscribed: (again) => this.onSubscribed(again),
        lost: () => this.lostSubscription(),
      },
      logger,
      'cache bus',
    );
  }

  private get subscribed(): boolean {
    return this.subscriber.subscribed;
  }

  onEvent(listener: (event: BusEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Acknowledgements wait for this: the writer's second delete must come after our in-flight writes. */
  settleWritesWith(writesSettled: () => Promise<void>): void {
    this.writesSettled = writesSettled;
  }

  /**
   * Whether this instance hears every invalidation right now, so that its in-process copies may
   * be served. False while the subscriber is down and from the moment a heartbeat is overdue.
   */
  get coherent(): boolean {
    this.inService = true;
    return this.listening;
  }

  /** `coherent`, asked by the bus's own connection checks: not a use of copies (see watchForStalls). */
  get listening(): boolean {
    return this.subscribed && Date.now() < this.coherentUntilMs && !this.loopStalled(performance.now());
  }

  /**
   * Connects, subscribes and joins, waiting (at most a lease) for the first heartbeat to come back
   * so that near copies and shared writes work from the first request. An unreachable Redis is
   * not an error: the bus keeps trying, and a later connection announces a reset.
   */
  async start(): Promise<void> {
    this.watchForStalls();
    await this.subscriber.start();
    const deadline = Date.now() + this.options.memberLeaseMs;
    while (this.subscribed && !this.listening && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /**
   * Announces an invalidation made here: to this instance's listeners at once, then to the live
   * instances, and resolves once each has acknowledged it or `ackTimeoutMs` has passed (the
   * silent ones are evicted). Never rejects: delivery is best effort while Redis is unreachable,
   * and an instance cut off from the bus does not use its near copies.
   */
  async publish(invalidation: Invalidation): Promise<Announcement> {
    this.emit({ kind: 'invalidation', invalidation, remote: false });
    const id = `${this.instanceId}:${(this.announcements += 1)}`;
    try {
      const redis = this.publisher();
      // Without our own subscription no acknowledgement could reach us: announce, do not wait.
      const others = this.subscribed ? (await this.liveMembers(redis)).filter((member) => member !== this.instanceId) : [];
      const acknowledged = this.awaitAcknowledgements(id, others);
      await redis.publish(this.options.channel, JSON.stringify({ from: this.instanceId, id, invalidation }));
      const silent = await acknowledged;
      if (silent.length > 0) {
        this.logger.warn({ silent, timeoutMs: this.options.ackTimeoutMs }, 'cache bus: instances did not acknowledge an invalidation in time; evicted from the bus');
        // Announced all the same: a failure here is not one to send it again for.
        await redis.zrem(this.options.membersKey, ...silent).catch((error: unknown) => this.logger.debug({ err: error }, 'cache bus: silent members not removed'));
      }
      return { id, failed: false, acknowledged: others.length - silent.length, evicted: silent.length };
    } catch (error) {
      this.pending.delete(id);
      this.logger.warn({ err: error }, 'cache bus: an invalidation could not be announced');
      return { id, failed: true, acknowledged: 0, evicted: 0 };
    }
  }

  /**
   * Tells the other instances that the announced invalidation `id` is complete: the writer has
   * deleted once more behind their late writes, so what they read now is current. Best effort:
   * an instance that does not hear it completes the invalidation itself after twice the acknowledgement timeout.
   */
  async complete(id: string): Promise<void> {
    try {
      await this.publisher().publish(this.options.channel, JSON.stringify({ from: this.instanceId, completed: id }));
    } catch (error) {
      this.logger.debug({ err: error }, 'cache bus: completion not announced');
    }
  }

  /** Redis answers again: try the subscriber (or the heartbeat) now rather than at the end of its backoff. */
  reconnectNow(): void {
    if (!this.subscriber.reconnectNow()) void this.heartbeat();
  }

  /** Local listeners only: used when this instance itself must forget (e.g. Redis came back). */
  reset(): void {
    this.emit({ kind: 'reset' });
  }

  /** Disconnects at once: a subscriber has nothing to flush, and QUIT would wait forever on a frozen server. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.heartbeatTimer);
    clearInterval(this.stallWatch);
    this.subscriber.close();
    for (const announcement of this.pending.values()) announcement.done();
    for (const timer of this.incomplete.values()) clearTimeout(timer);
    this.incomplete.clear();
    return Promise.resolve();
  }

  private async onSubscribed(again: boolean): Promise<void> {
    if (again) {
      this.logger.info('cache bus: resubscribed, dropping in-process copies (messages may have been missed)');
      this.emit({ kind: 'reset' });
    }
    // The first heartbeat makes this instance a member before start() returns, so that no write
    // answered after this instance began serving goes unacknowledged by it.
    await this.heartbeat();
  }

  /**
   * Renews the membership, then pings this instance's own reply channel; the next heartbeat goes
   * when the ping comes back (or after a lease, if it never does). Near copies stay usable for a
   * lease from the moment the renewal was sent.
   */
  private async heartbeat(): Promise<void> {
    clearTimeout(this.heartbeatTimer);
    if (this.closed || !this.subscribed) return;
    const sentAtMs = Date.now();
    // Retried soon if the ping does not come back: until it does, near copies are not used.
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.options.memberLeaseMs / 6).unref();
    try {
      const redis = this.publisher();
      const added = Number(await redis.eval(HEARTBEAT, 1, this.options.membersKey, this.instanceId, String(this.options.memberLeaseMs)));
      if (added === 1 && this.member) {
        this.logger.warn('cache bus: this instance was evicted from the bus (missed an acknowledgement or a heartbeat); dropping in-process copies');
        this.emit({ kind: 'reset' });
      }
      this.member = true;
      await redis.publish(this.replyChannel, JSON.stringify({ ping: sentAtMs }));
    } catch (error) {
      this.member = false;
      this.logger.debug({ err: error }, 'cache bus: heartbeat failed');
    }
  }

  /**
   * A writer waits `ackTimeoutMs` for this instance's acknowledgement, then evicts it and answers.
   * An instance whose event loop stood still that long (a long GC pause, a CPU-bound task) has
   * not read the announcement yet when it runs again, so whatever it does next in the same turn
   * may rest on the old value: write back a load that read before the change, or serve a near
   * copy. So the loop is watched, at a tenth of the timeout: while a turn has run longer than
   * STALL_SHARE of it, `coherent` is false (no shared write-backs, no near copies), and the watch's
   * next run, the first thing after the stall, drops everything local as a lost subscription does.
   * A shorter stall still lets the acknowledgement through in time, and then the writer's second
   * delete comes behind this instance's writes.
   */
  private watchForStalls(): void {
    clearInterval(this.stallWatch);
    this.lastTurnMs = performance.now();
    this.stallWatch = setInterval(() => {
      const now = performance.now();
      if (this.loopStalled(now)) {
        // Before the instance is in service the stall is its own start-up (building the schema,
        // seeding an embedded database): the reset is as cheap as it is then, but no one needs warning.
        const log = this.inService ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ stalledMs: Math.round(now - this.lastTurnMs), ackTimeoutMs: this.options.ackTimeoutMs }, 'cache bus: the event loop stood still for most of an acknowledgement timeout; dropping in-process copies and loads under way (invalidations may have gone unacknowledged)');
        this.emit({ kind: 'reset' });
      }
      this.lastTurnMs = now;
    }, Math.max(1, this.options.ackTimeoutMs / 10)).unref();
  }

  private loopStalled(now: number): boolean {
    return now - this.lastTurnMs > this.options.ackTimeoutMs * STALL_SHARE;
  }

  private lostSubscription(): void {
    this.member = false;
    this.coherentUntilMs = 0;
    clearTimeout(this.heartbeatTimer);
    // Messages may be missed from now on: loads under way must not write back what they read.
    this.emit({ kind: 'reset' });
  }

  private async liveMembers(redis: RedisClient): Promise<string[]> {
    return (await redis.eval(LIVE_MEMBERS, 1, this.options.membersKey)) as string[];
  }

  /** Resolves with the members that did not acknowledge `id` within the timeout. */
  private awaitAcknowledgements(id: string, members: readonly string[]): Promise<string[]> {
    if (members.length === 0) return Promise.resolve([]);
    const waitingFor = new Set(members);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve([...waitingFor]);
      };
      const timer = setTimeout(done, this.options.ackTimeoutMs);
      this.pending.set(id, { waitingFor, done });
    });
  }

  private receive(channel: string, message: string): void {
    try {
      const parsed = JSON.parse(message) as { from?: unknown; id?: unknown; invalidation?: Invalidation; completed?: unknown; ack?: unknown; ping?: unknown };
      if (channel === this.replyChannel) {
        this.onReply(parsed);
        return;
      }
      if (parsed.from === this.instanceId || typeof parsed.from !== 'string') return;
      if (typeof parsed.completed === 'string') {
        this.completed(parsed.completed);
        return;
      }
      if (parsed.invalidation === undefined || typeof parsed.id !== 'string') return;
      const { id } = parsed;
      // The writer waits at most the acknowledgement timeout, then deletes once more: after twice
      // that, a completion not heard (the writer gone, the message lost) is taken as given.
      this.incomplete.set(id, setTimeout(() => this.completed(id), this.options.ackTimeoutMs * 2).unref());
      this.emit({ kind: 'invalidation', invalidation: parsed.invalidation, remote: true, id });
      void this.acknowledge(parsed.from, id);
    } catch (error) {
      this.logger.warn({ err: error }, 'cache bus: unreadable message ignored');
    }
  }

  private onReply(reply: { from?: unknown; ack?: unknown; ping?: unknown }): void {
    if (typeof reply.ping === 'number') {
      this.coherentUntilMs = Math.max(this.coherentUntilMs, reply.ping + this.options.memberLeaseMs);
      clearTimeout(this.heartbeatTimer);
      // A third of the lease: two heartbeats may be lost before the membership runs out.
      this.heartbeatTimer = setTimeout(() => void this.heartbeat(), Math.max(1, reply.ping + this.options.memberLeaseMs / 3 - Date.now())).unref();
      return;
    }
    if (typeof reply.ack !== 'string' || typeof reply.from !== 'string') return;
    const announcement = this.pending.get(reply.ack);
    if (announcement === undefined) return;
    announcement.waitingFor.delete(reply.from);
    if (announcement.waitingFor.size === 0) announcement.done();
  }

  /** After the listeners have dropped their copies, and this instance's writes under way have landed. */
  private async acknowledge(writer: string, id: string): Promise<void> {
    try {
      await this.writesSettled();
      await this.publisher().publish(`${this.options.channel}:ack:${writer}`, JSON.stringify({ from: this.instanceId, ack: id }));
    } catch (error) {
      this.logger.debug({ err: error }, 'cache bus: acknowledgement failed');
    }
  }

  private completed(id: string): void {
    const timer = this.incomplete.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.incomplete.delete(id);
    this.emit({ kind: 'completed', id });
  }

  private emit(event: BusEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
