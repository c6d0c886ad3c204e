import type { RedisClient } from '../cache/redis-client';
import { badInput } from '../errors';
import type { Logger } from '../logger';
import type { LiveBus, LiveMessage } from './live-bus';

/** An event id: Redis Stream's `{ms}-{seq}`, ordered by time, then sequence. */
export type EventId = string;

export interface EventLogOptions {
  /** The Redis Stream that keeps the events (see CacheKeys.live). */
  readonly streamKey: string;
  /** The topic of every event in this log. */
  readonly topic: string;
  /** How long events stay replayable (SUBSCRIPTION_REPLAY_SECONDS). */
  readonly retentionSeconds: number;
  /** The most events one replay returns; a client further behind gets a gap. */
  readonly maxReplay: number;
  /** Whether Redis answers now (a frozen one is not waited for: the event goes the local way at once). */
  readonly available: () => boolean;
  readonly now?: () => number;
}

/** What a client that resumes from an event id gets: the events after it, or the news that some are gone. */
export type Replay = { readonly kind: 'events'; readonly events: readonly LiveMessage[] } | { readonly kind: 'gap'; readonly reason: string };

/** Events one catch-up delivers at most (subscribers further behind get a gap when they resume). */
const CATCH_UP_MAX = 10_000;

/** Events kept locally while Redis cannot take them: replayable on this instance only. */
const LOCAL_EVENTS_MAX = 10_000;

/**
 * Adds to the stream (trimmed to the retention window by Redis's own clock) and publishes the
 * event with its id in one step, so that no instance can hear an event the stream does not hold,
 * and the ids on the channel come in stream order.
 *
 * First, a stream that lost its latest events (a Redis restarted from an older snapshot, a
 * promoted replica that lagged) gets a marker at the last id this instance heard (ARGV[6]): a
 * replay across it is a gap. When nothing was lost, the marker's XADD fails, as it should: a
 * stream takes an explicit id only above every id it has generated.
 */
const APPEND = `
if ARGV[6] ~= '' then pcall(redis.call, 'XADD', KEYS[1], ARGV[6], 'lost', '1') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = redis.call('XADD', KEYS[1], 'MINID', '~', tostring(now - tonumber(ARGV[1])), '*', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2 + 60000)
redis.call('PUBLISH', ARGV[3], ARGV[4] .. id .. ARGV[5])
return id`;

/**
 * A replayable log of live events (signal events), kept in a Redis Stream for the retention
 * window, so that a client that reconnects (to any instance) with its last event id gets what it
 * missed, and instances never deliver an event twice or skip one across a lost subscription:
 *
 * - every instance remembers the last stream id it heard and, after its subscription comes back,
 *   reads what it missed from the stream (each subscriber drops an id it has had: see LiveHub);
 * - while Redis is down, events get local ids and are kept in memory, delivered and replayable on
 *   this instance only (other instances cannot hear them then anyway).
 */
export class EventLog {
  private lastStreamId: EventId | undefined;
  private readonly local: LiveMessage[] = [];
  private localSequence = 0;
  private lastLocalMs = 0;
  private readonly now: () => number;

  constructor(
    private readonly options: EventLogOptions,
    private readonly bus: LiveBus,
    private readonly redis: () => RedisClient,
    private readonly logger: Logger,
  ) {
    this.now = options.now ?? Date.now;
    // The last stream id heard (from here or the fleet): where a catch-up starts.
    bus.onMessage((message) => {
      if (message.topic !== options.topic || message.id === undefined || message.id.startsWith('L')) return;
      if (this.lastStreamId === undefined || compareIds(message.id, this.lastStreamId) > 0) this.lastStreamId = message.id;
    });
    bus.onResumed(() => void this.catchUp());
  }

  get topic(): string {
    return this.options.topic;
  }

  /** Appends, then delivers here and across the fleet; never rejects (Redis down: local id, local delivery). */
  async append(data: unknown): Promise<EventId> {
    const text = JSON.stringify(data);
    if (this.options.retentionSeconds > 0 && this.options.available()) {
      try {
        // The channel's envelope (LiveEnvelope), with the id XADD gives spliced in by the script.
        const head = `{"from":${JSON.stringify(this.bus.instanceId)},"topic":${JSON.stringify(this.options.topic)},"data":${text},"id":"`;
        const id = String(await this.redis().eval(APPEND, 1, this.options.streamKey, String(this.options.retentionSeconds * 1000), text, this.bus.channel, head, '"}', this.lastStreamId ?? ''));
        this.bus.deliver({ topic: this.options.topic, data, id });
        return id;
      } catch (error) {
        this.logger.warn({ err: error, topic: this.options.topic }, 'event log: Redis did not take the event; delivered and kept on this instance only');
      }
    }
    const id = this.localId();
    const message: LiveMessage = { topic: this.options.topic, data, id };
    this.local.push(message);
    if (this.local.length > LOCAL_EVENTS_MAX) this.local.shift();
    this.bus.deliver(message);
    return id;
  }

  /**
   * The events after `after`, oldest first. A gap when `after` is older than the retention window
   * (events may have been trimmed), when more than `maxReplay` events came since, or when the log
   * no longer holds `after` itself: a Redis restarted without persistence, or one that evicted or
   * lost the stream, has lost what came after it too, and replaying the rest would hide that.
   */
  async replay(after: EventId): Promise<Replay> {
    const parsed = parseId(after);
    if (parsed === undefined) throw badInput(`"${after}" is not an event id (the id of an event this subscription sent)`, { field: 'after' });
    if (parsed.ms < this.now() - this.options.retentionSeconds * 1000) {
      return { kind: 'gap', reason: `Event ${after} is older than the replay window (${this.options.retentionSeconds} s): events may have been missed` };
    }
    const since = `${parsed.ms}-${parsed.seq}`;
    // Read before the stream is: every event heard by then is in the stream, unless Redis lost it.
    const heard = this.lastStreamId;
    if (!after.startsWith('L')) {
      const stream = await this.streamFrom(since, true);
      if (stream === undefined) return UNAVAILABLE;
      if (stream[0]?.[0] !== since) return lost(after);
      return this.atMost(after, [], stream.slice(1), heard);
    }
    // A local id: this instance kept the events of a Redis outage, and the stream has those since it came back.
    const at = this.local.findIndex((event) => event.id === after);
    if (at === -1) return lost(after);
    const stream = (await this.streamFrom(since, false)) ?? [];
    return this.atMost(after, this.local.slice(at + 1), stream, heard);
  }

  /** The stream's entries from `since` (with it when `inclusive`), one more than a replay takes; `undefined` when Redis cannot answer. */
  private async streamFrom(since: EventId, inclusive: boolean): Promise<StreamEntry[] | undefined> {
    if (!this.options.available()) return undefined;
    try {
      return await this.redis().xrange(this.options.streamKey, inclusive ? since : `(${since}`, '+', 'COUNT', this.options.maxReplay + 2);
    } catch (error) {
      this.logger.warn({ err: error }, 'event log: replay from Redis failed');
      return undefined;
    }
  }

  /**
   * The events after `after`: kept here, and from the stream (all of it up to its end, unless
   * there are too many). A gap across a marker of lost events, or when the stream lacks an event
   * this instance heard after `after` (lost, and no append has marked it yet).
   */
  private atMost(after: EventId, kept: readonly LiveMessage[], stream: readonly StreamEntry[], heard: EventId | undefined): Replay {
    // Cut short by the COUNT: the stream's end was not read.
    if (stream.length > this.options.maxReplay) return this.tooMany();
    const events = [...kept];
    for (const entry of stream) {
      const event = this.eventOf(entry);
      if (event === undefined) return lostAfter(after);
      events.push(event);
    }
    if (heard !== undefined && compareIds(heard, after) > 0 && !stream.some(([id]) => id === heard)) return lostAfter(after);
    if (events.length > this.options.maxReplay) return this.tooMany();
    return { kind: 'events', events: events.sort((a, b) => compareIds(a.id!, b.id!)) };
  }

  private tooMany(): Replay {
    return { kind: 'gap', reason: `More than ${this.options.maxReplay} events were missed: too many to replay` };
  }

  /** A stream entry's event; `undefined` for a marker of lost events. */
  private eventOf([id, fields]: StreamEntry): LiveMessage | undefined {
    return fields[0] === 'e' ? { topic: this.options.topic, data: JSON.parse(fields[1] ?? 'null') as unknown, id } : undefined;
  }

  /** After a lost subscription: what the channel carried meanwhile, from the stream, through the bus's local delivery. */
  private async catchUp(): Promise<void> {
    const from = this.lastStreamId;
    if (from === undefined || this.options.retentionSeconds === 0) return;
    try {
      const entries = (await this.redis().xrange(this.options.streamKey, `(${from}`, '+', 'COUNT', CATCH_UP_MAX)) as StreamEntry[];
      for (const entry of entries) {
        const event = this.eventOf(entry);
        if (event !== undefined) this.bus.deliver(event);
      }
      if (entries.length > 0) this.logger.info({ events: entries.length }, 'event log: delivered events missed while the subscription was down');
    } catch (error) {
      this.logger.warn({ err: error }, 'event log: could not catch up after the subscription came back');
    }
  }

  /** `L{ms}-{seq}`: ordered among themselves, never taken for a stream id. */
  private localId(): EventId {
    const ms = this.now();
    if (ms > this.lastLocalMs) {
      this.lastLocalMs = ms;
      this.localSequence = 0;
    } else {
      this.localSequence += 1;
    }
    return `L${this.lastLocalMs}-${this.localSequence}`;
  }
}

/** An entry of the stream: an event (`e`: its JSON), or a marker where events were lost (see APPEND). */
type StreamEntry = [id: string, fields: string[]];

const UNAVAILABLE: Replay = { kind: 'gap', reason: 'The event log is unavailable right now: events may have been missed' };

function lost(after: EventId): Replay {
  return { kind: 'gap', reason: `Event ${after} is no longer in the event log (kept by another instance, or lost in a Redis restart or failover): events may have been missed` };
}

function lostAfter(after: EventId): Replay {
  return { kind: 'gap', reason: `Events after ${after} were lost in a Redis restart or failover: events may have been missed` };
}

function parseId(id: string): { ms: number; seq: number } | undefined {
  const match = /^L?(\d{1,15})-(\d{1,15})$/.exec(id);
  return match === null ? undefined : { ms: Number(match[1]), seq: Number(match[2]) };
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareIds(a: EventId, b: EventId): number {
  const x = parseId(a);
  const y = parseId(b);
  if (x === undefined || y === undefined) return a < b ? -1 : a > b ? 1 : 0;
  return x.ms - y.ms || x.seq - y.seq;
}
