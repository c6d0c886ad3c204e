import type { IncomingHttpHeaders } from 'node:http';

import {
  type Attributes,
  type Context,
  context,
  type ContextManager,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

import type { TraceSamplerKind, TracingConfig } from '../config';
import { exportRequestJson } from './otlp-json';
import { exportRequestProtobuf } from './otlp-protobuf';
import { RecordedSpan, SpanIds, type SpanSink } from './recorded-span';

/** Marks the context of a GraphQL operation's span, so that Apollo's hooks name that span instead of opening another. */
export const OPERATION_SPAN = createContextKey('trading-gateway operation span');

/** The SDK's batch defaults, given explicitly: its own environment fallbacks (OTEL_BSP_*) must never apply. */
const MAX_QUEUED_SPANS = 2048;
const MAX_SPANS_PER_EXPORT = 512;
const EXPORT_TIMEOUT_MS = 10_000;

/**
 * The gateway's tracer: spans for requests and for what a request does (cache tiers, SQL, the
 * market-data provider), exported in batches over OTLP/HTTP (protobuf, or JSON). Built by the
 * composition root only when an OTLP endpoint is configured; the traced wrappers (traced-*.ts)
 * take it, and nothing else in the gateway knows about tracing.
 *
 * The cost rule: sampling is decided once, at the request's span; every child goes through
 * `startChild`, which returns `undefined` unless the active span is recording, so an unsampled
 * request creates no child spans and sets no attributes.
 */
export class Tracing {
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly ids = new SpanIds();

  /**
   * Whether a request is traced is decided here, once (see startRequest), by `sampler`
   * (OTEL_TRACES_SAMPLER) for a request that continues a caller's trace and by `sampleRoot` (its
   * decision for a trace that starts here); the spans made are recorded and go to `sink`.
   */
  constructor(
    private readonly sink: SpanSink,
    private readonly sampler: Sampler,
    private readonly sampleRoot: () => boolean,
    /** The API's context manager, called directly: the API's `context` looks its manager up on every call. */
    private readonly contexts: ContextManager,
  ) {}

  /**
   * The span of one HTTP request (kind SERVER), child of the caller's `traceparent` when it sent
   * one, and the context to run the request in; `undefined` when the request is not sampled and
   * has no trace to pass on, so that it runs exactly as without tracing. An unsampled request
   * with a caller's trace gets that trace as its context and no span (it is passed on, unsampled).
   *
   * Deciding first spares an unsampled request a span (random ids, a sampler call, an object): a
   * trace that starts here is sampled by a draw with the sampler's ratio, which is what a ratio
   * of a random trace id amounts to. `describe` names the span and gives its first attributes
   * from `subject`, asked only for a span that is recorded (a function and its argument, not a
   * closure: no garbage for the requests that are not sampled).
   */
  startRequest<Subject>(headers: IncomingHttpHeaders, describe: (subject: Subject) => readonly [name: string, attributes: Attributes], subject: Subject): { span: Span | undefined; context: Context } | undefined {
    const incoming = headers.traceparent === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    // The propagator reads any hex: an all-zero id is no trace (W3C), and one starts here instead.
    const found = trace.getSpanContext(incoming);
    const remote = found !== undefined && isSpanContextValid(found) ? found : undefined;
    if (remote === undefined) {
      if (!this.sampleRoot()) return undefined;
    } else if (this.sampler.shouldSample(incoming, remote.traceId, 'HTTP', SpanKind.SERVER, {}, []).decision !== SamplingDecision.RECORD_AND_SAMPLED) {
      return { span: undefined, context: incoming };
    }
    const [name, attributes] = describe(subject);
    const span = this.start(name, SpanKind.SERVER, attributes, remote);
    return { span, context: trace.setSpan(incoming, span) };
  }

  /** The active span when it is recorded: the span of whoever is asking (a request, an operation). */
  recordingSpan(): Span | undefined {
    const span = trace.getSpan(this.contexts.active());
    return span?.isRecording() === true ? span : undefined;
  }

  /**
   * `listener`, bound to run in the active context (a request's trace) whenever it is called, for
   * callbacks of events that node emits from elsewhere (a request body's, emitted from its
   * connection's context); `listener` itself outside any trace.
   */
  bindActive<Args extends unknown[]>(listener: (...args: Args) => void): (...args: Args) => void {
    const active = this.contexts.active();
    return active === ROOT_CONTEXT ? listener : (...args) => this.contexts.with(active, listener, undefined, ...args);
  }

  /** A child of the active span, or `undefined` when that span is not recording (unsampled, or no request around). */
  startChild(name: string, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | undefined {
    const parent = trace.getSpan(this.contexts.active());
    return parent?.isRecording() === true ? this.start(name, kind, attributes, parent.spanContext()) : undefined;
  }

  /** Runs `work` with `span` active, so that its children hang under it; `mark` tags that context (see OPERATION_SPAN). */
  within<T>(span: Span, work: () => T, mark?: symbol): T {
    const withSpan = trace.setSpan(this.contexts.active(), span);
    return this.contexts.with(mark === undefined ? withSpan : withSpan.setValue(mark, span), work);
  }

  /** Calls `listener` with `args` in `active` (a request's context, from startRequest). */
  runIn<Args extends unknown[]>(active: Context, listener: (...args: Args) => void, ...args: Args): void {
    this.contexts.with(active, listener, undefined, ...args);
  }

  /** Adds `traceparent` (and `tracestate`) for the active span to outgoing headers; nothing without one. */
  inject(headers: Record<string, string>): void {
    const active = this.contexts.active();
    const span = trace.getSpan(active);
    if (span !== undefined && isSpanContextValid(span.spanContext())) this.propagator.inject(active, headers, defaultTextMapSetter);
  }

  /** Exports what is queued, then stops. */
  shutdown(): Promise<void> {
    return this.sink.processor.shutdown();
  }

  /** A recorded span under `parent`: a span of this gateway's, or a caller's that the propagator read (both valid). */
  private start(name: string, kind: SpanKind, attributes: Attributes | undefined, parent: SpanContext | undefined): Span {
    return new RecordedSpan(name, kind, this.ids.of(parent), parent, attributes, this.sink);
  }
}

/**
 * Ends `span` once `work` settles, recording a failure as its status. `onValue` adds attributes
 * from the result. Without a span, `work` just runs.
 */
export async function endAfter<T>(span: Span | undefined, work: () => Promise<T>, onValue?: (span: Span, value: T) => void): Promise<T> {
  if (span === undefined) return work();
  try {
    const value = await work();
    onValue?.(span, value);
    return value;
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span as failed by `error`. */
export function failed(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Whether this runtime's AsyncLocalStorage is cheap: from Node 24 on it rides on the async context
 * frame; before, on async_hooks, whose promise hooks every promise of every request pays for once
 * one request has run in a trace (BENCHMARKS.md, "Tracing overhead": near hits at 10 % sampling
 * about 1.2× the CPU on Node 20, against about 1.05× on Node 24).
 */
export const CHEAP_ASYNC_CONTEXT = Number(process.versions.node.split('.')[0]) >= 24;

/** Builds the tracer: sampler, resource, batch export; registers the async context the spans travel in. */
export function createTracing(config: TracingConfig): Tracing {
  const processor = new BatchSpanProcessor(otlpExporter(config), {
    scheduledDelayMillis: config.exportDelayMs,
    maxQueueSize: MAX_QUEUED_SPANS,
    maxExportBatchSize: MAX_SPANS_PER_EXPORT,
    exportTimeoutMillis: EXPORT_TIMEOUT_MS,
  });
  const resource = resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName });
  const { kind, ratio } = config.sampler;
  return new Tracing({ processor, resource, scope: { name: 'trading-gateway' } }, samplerOf(kind, ratio), rootSampling(kind, ratio), processContexts());
}

/**
 * OTLP/HTTP as the SDK's OTLPTraceExporter sends it (its transport: retries, timeout, concurrency
 * bound), with the export body written by exportRequestProtobuf or exportRequestJson.
 */
function otlpExporter(config: TracingConfig): OTLPExporterBase<ReadableSpan[]> {
  const json = config.protocol === 'http/json';
  const options = convertLegacyHttpOptions({ url: config.tracesUrl, headers: { ...config.headers }, timeoutMillis: EXPORT_TIMEOUT_MS }, 'TRACES', 'v1/traces', { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
  const serializer = json
    ? { serializeRequest: (spans: ReadableSpan[]) => Buffer.from(exportRequestJson(spans)), deserializeResponse: (body: Uint8Array) => JsonTraceSerializer.deserializeResponse(body) }
    : { serializeRequest: exportRequestProtobuf, deserializeResponse: (body: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(body) };
  return new OTLPExporterBase(createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
}

/**
 * The async context spans travel in. The API's context manager is process-wide by design (log
 * lines read it through the API), so it is made and registered once: a second gateway in the
 * same process (tests) shares it. Should another manager be registered already, the API's
 * `context` is used as it is.
 */
function processContexts(): ContextManager {
  if (registeredContexts === undefined) {
    const manager = new AsyncLocalStorageContextManager().enable();
    registeredContexts = context.setGlobalContextManager(manager) ? manager : apiContexts();
  }
  return registeredContexts;
}
let registeredContexts: ContextManager | undefined;

function apiContexts(): ContextManager {
  const contexts: ContextManager = {
    active: () => context.active(),
    with: (active, fn, thisArg, ...args) => context.with(active, fn, thisArg, ...args),
    bind: (active, target) => context.bind(active, target),
    enable: () => contexts,
    disable: () => contexts,
  };
  return contexts;
}

/** A sampler's decision for a trace that starts at this gateway (no caller's trace). */
function rootSampling(kind: TraceSamplerKind, ratio: number): () => boolean {
  switch (kind) {
    case 'always_on':
    case 'parentbased_always_on':
      return () => true;
    case 'always_off':
    case 'parentbased_always_off':
      return () => false;
    case 'traceidratio':
    case 'parentbased_traceidratio':
      return () => Math.random() < ratio;
  }
}

function samplerOf(kind: TraceSamplerKind, ratio: number): Sampler {
  switch (kind) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}
