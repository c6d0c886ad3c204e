import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import {
  type Attributes,
  type AttributeValue,
  type Exception,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
} from '@opentelemetry/api';
import { type InstrumentationScope, timeInputToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';

/** What every span of one tracer shares: where it goes when it ends, and who made it. */
export interface SpanSink {
  readonly processor: SpanProcessor;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

/**
 * A recorded span: the API's Span for the code that records it, the SDK's ReadableSpan for the
 * batch processor and the exporter that take it when it ends.
 *
 * Why not the SDK's span: a sampled request is one in ten between near hits of 30-50 µs, so its
 * tracing runs with cold caches, and there the SDK's spans (limits, sanitising, a metrics hook, a
 * wall-clock read and two time conversions per span, a processor chain) cost 25-30 µs per sampled
 * request with its context, and these about half (BENCHMARKS.md, "Tracing overhead", session 8).
 * This one keeps what a span needs when it is made, two clock readings and the attributes, and
 * leaves the rest (times as OTLP wants them) to the export, which runs once per batch.
 *
 * Times are read from the monotonic clock, on the process's origin (performance.timeOrigin): the
 * spans of one process agree with each other to the microsecond, which a wall-clock read per span
 * (millisecond steps) would not give. No limits on attributes, events or links: only the gateway's
 * own code sets them, a few per span.
 */
export class RecordedSpan implements Span, ReadableSpan {
  /** The attributes given at the start, as given (often one object for many spans), until one is set: then a copy of the span's own. */
  attributes: Attributes;
  private ownsAttributes: boolean;
  /** Made when the first is added: most spans have none. */
  private linkList: Link[] | undefined;
  private eventList: TimedEvent[] | undefined;
  status: SpanStatus = UNSET;
  /** performance.now() at the start and at the end (-1 until then). */
  private readonly startedAt = performance.now();
  private endedAt = -1;

  constructor(
    public name: string,
    readonly kind: SpanKind,
    private readonly ids: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    attributes: Attributes | undefined,
    private readonly sink: SpanSink,
  ) {
    this.attributes = attributes ?? {};
    this.ownsAttributes = attributes === undefined;
  }

  spanContext(): SpanContext {
    return this.ids;
  }

  isRecording(): boolean {
    return this.endedAt < 0;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value === undefined || value === null || this.endedAt >= 0) return this;
    if (!this.ownsAttributes) {
      this.attributes = { ...this.attributes };
      this.ownsAttributes = true;
    }
    this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.hasOwn(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.endedAt >= 0) return this;
    const timeGiven = isTimeInput(attributesOrTime) ? attributesOrTime : time;
    const attributes = isTimeInput(attributesOrTime) ? {} : { ...attributesOrTime };
    (this.eventList ??= []).push({ name, attributes, time: timeGiven === undefined ? hrTimeOf(performance.now()) : timeInputToHrTime(timeGiven), droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (this.endedAt < 0) (this.linkList ??= []).push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  /** As the SDK: UNSET changes nothing, OK is final, and a message is kept for ERROR only. */
  setStatus(status: SpanStatus): this {
    if (this.endedAt >= 0 || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (this.endedAt < 0) this.name = name;
    return this;
  }

  /** An `exception` event with the semantic conventions' attributes, as the SDK records it. */
  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes[ATTR_EXCEPTION_MESSAGE] = exception;
    else {
      const type = exception.code ?? exception.name;
      if (type !== undefined) attributes[ATTR_EXCEPTION_TYPE] = String(type);
      if (exception.message !== undefined) attributes[ATTR_EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack !== undefined) attributes[ATTR_EXCEPTION_STACKTRACE] = exception.stack;
    }
    this.addEvent('exception', attributes, time);
  }

  /** Ends the span (a second call does nothing) and hands it to the processor. An explicit end time is not taken: the gateway's spans end when their work does. */
  end(): void {
    if (this.endedAt >= 0) return;
    this.endedAt = performance.now();
    this.sink.processor.onEnd(this);
  }

  // ReadableSpan: computed when exported.

  get links(): Link[] {
    return this.linkList ?? NONE;
  }

  get events(): TimedEvent[] {
    return this.eventList ?? NONE;
  }

  get startTime(): HrTime {
    return hrTimeOf(this.startedAt);
  }

  get endTime(): HrTime {
    return hrTimeOf(this.endedAt < 0 ? this.startedAt : this.endedAt);
  }

  get duration(): HrTime {
    const ms = this.endedAt < 0 ? 0 : this.endedAt - this.startedAt;
    return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
  }

  get ended(): boolean {
    return this.endedAt >= 0;
  }

  get resource(): Resource {
    return this.sink.resource;
  }

  get instrumentationScope(): InstrumentationScope {
    return this.sink.scope;
  }

  // Nothing is dropped (no limits): on the prototype, not three more fields on every span.

  get droppedAttributesCount(): number {
    return 0;
  }

  get droppedEventsCount(): number {
    return 0;
  }

  get droppedLinksCount(): number {
    return 0;
  }
}

const UNSET: SpanStatus = { code: SpanStatusCode.UNSET };
/** The links or events of a span without any: read, never added to (additions go to a list of the span's own). */
const NONE: never[] = [];

/** A performance.now() reading as the time since the epoch. */
function hrTimeOf(performanceNow: number): HrTime {
  const epochMs = performance.timeOrigin + performanceNow;
  const seconds = Math.floor(epochMs / 1000);
  const nanos = Math.round((epochMs - seconds * 1000) * 1e6);
  return nanos >= 1e9 ? [seconds + 1, nanos - 1e9] : [seconds, nanos];
}

function isTimeInput(value: Attributes | TimeInput | undefined): value is TimeInput {
  return typeof value === 'number' || value instanceof Date || (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number');
}

/**
 * Trace and span ids from the system's random source, a page at a time: an id is a slice of the
 * page's hex, drawn already. (An all-zero id is invalid; at one in 2^64 it is drawn again anyway.)
 */
export class SpanIds {
  private readonly pool = Buffer.alloc(4096);
  private hex = '';
  /** Where the next id starts in `hex`. */
  private at = 0;

  /** The ids of a new span: in `parent`'s trace, else in a new one; sampled, since only sampled spans are made. */
  of(parent: SpanContext | undefined): SpanContext {
    const spanId = this.draw(16, '0000000000000000');
    return parent === undefined ? { traceId: this.draw(32, '00000000000000000000000000000000'), spanId, traceFlags: TraceFlags.SAMPLED } : { traceId: parent.traceId, spanId, traceFlags: TraceFlags.SAMPLED, traceState: parent.traceState };
  }

  private draw(digits: number, zero: string): string {
    for (;;) {
      if (this.at + digits > this.hex.length) {
        this.hex = randomFillSync(this.pool).toString('hex');
        this.at = 0;
      }
      const id = this.hex.slice(this.at, this.at + digits);
      this.at += digits;
      if (id !== zero) return id;
    }
  }
}
