import type { IncomingHttpHeaders } from 'node:http';

import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

import type { TraceSamplerKind, TracingConfig } from '../config';

/** Marks the context of a GraphQL operation's span, so that Apollo's hooks name that span instead of opening another. */
export const OPERATION_SPAN = createContextKey('trading-gateway operation span');

/** The SDK's defaults, given explicitly: its own environment fallbacks (OTEL_BSP_*, OTEL_SPAN_*) must never apply. */
const MAX_QUEUED_SPANS = 2048;
const MAX_SPANS_PER_EXPORT = 512;
const EXPORT_TIMEOUT_MS = 10_000;
const SPAN_LIMITS = {
  attributeCountLimit: 128,
  // A SQL statement is the longest attribute we set; beyond this it is cut (the label is in the span name anyway).
  attributeValueLengthLimit: 4096,
  linkCountLimit: 128,
  eventCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
};

/**
 * The gateway's tracer: spans for requests and for what a request does (cache tiers, SQL, the
 * market-data provider), exported in batches over OTLP/HTTP (JSON). Built by the composition root
 * only when an OTLP endpoint is configured; the traced wrappers (traced-*.ts) take it, and nothing
 * else in the gateway knows about tracing.
 *
 * The cost rule: sampling is decided once, at the request's span; every child goes through
 * `startChild`, which returns `undefined` unless the active span is recording, so an unsampled
 * request creates no child spans and sets no attributes.
 */
export class Tracing {
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(private readonly provider: BasicTracerProvider) {
    this.tracer = provider.getTracer('trading-gateway');
  }

  /**
   * The span of one HTTP request (kind SERVER), child of the caller's `traceparent` when it sent
   * one, and the context to run the request in. `context` is `undefined` when there is nothing to
   * carry (unsampled, and no incoming trace to pass on): the request then runs without a context switch.
   */
  startRequest(name: string, headers: IncomingHttpHeaders, attributes: Attributes): { span: Span; context: Context | undefined } {
    const incoming = headers.traceparent === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, incoming);
    const carried = span.isRecording() || incoming !== ROOT_CONTEXT ? trace.setSpan(incoming, span) : undefined;
    return { span, context: carried };
  }

  /** A child of the active span, or `undefined` when that span is not recording (unsampled, or no request around). */
  startChild(name: string, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span | undefined {
    const parent = context.active();
    if (trace.getSpan(parent)?.isRecording() !== true) return undefined;
    return this.tracer.startSpan(name, { kind, attributes }, parent);
  }

  /** Runs `work` with `span` active, so that its children hang under it; `mark` tags that context (see OPERATION_SPAN). */
  within<T>(span: Span, work: () => T, mark?: symbol): T {
    const withSpan = trace.setSpan(context.active(), span);
    return context.with(mark === undefined ? withSpan : withSpan.setValue(mark, span), work);
  }

  /** Adds `traceparent` (and `tracestate`) for the active span to outgoing headers; nothing without one. */
  inject(headers: Record<string, string>): void {
    const active = context.active();
    const span = trace.getSpan(active);
    if (span !== undefined && isSpanContextValid(span.spanContext())) this.propagator.inject(active, headers, defaultTextMapSetter);
  }

  /** Exports what is queued, then stops. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
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

/** Builds the tracer: sampler, resource, batch export; registers the async context the spans travel in. */
export function createTracing(config: TracingConfig): Tracing {
  // The context manager is process-wide by the API's design (log lines read it too); a second
  // gateway in the same process (tests) shares the first one's.
  const manager = new AsyncLocalStorageContextManager();
  if (!context.setGlobalContextManager(manager.enable())) manager.disable();
  const exporter = new OTLPTraceExporter({ url: config.tracesUrl, headers: { ...config.headers }, timeoutMillis: EXPORT_TIMEOUT_MS });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ ...config.resourceAttributes, [ATTR_SERVICE_NAME]: config.serviceName }),
    sampler: samplerOf(config.sampler.kind, config.sampler.ratio),
    spanLimits: SPAN_LIMITS,
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: config.exportDelayMs,
        maxQueueSize: MAX_QUEUED_SPANS,
        maxExportBatchSize: MAX_SPANS_PER_EXPORT,
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      }),
    ],
  });
  return new Tracing(provider);
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
