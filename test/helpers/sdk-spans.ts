import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Spans of two resources and three scopes, with every kind of attribute, event, link, status and parent the SDK records. */
export function recordedSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const providerOf = (attributes: Record<string, string>, schemaUrl?: string) =>
    new BasicTracerProvider({ resource: resourceFromAttributes(attributes, schemaUrl === undefined ? undefined : { schemaUrl }), sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const gateway = providerOf({ 'service.name': 'gateway', 'deployment.environment.name': 'test "quoted" \\ ü' }, 'https://opentelemetry.io/schemas/1.30.0');
  const other = providerOf({ 'service.name': 'other' });

  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=a,other=b'),
  });
  const tracer = gateway.getTracer('trading-gateway');
  const request = tracer.startSpan('POST /graphql', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'url.path': '/graphql' } }, remoteParent);
  const child = tracer.startSpan(
    'query Board',
    {
      attributes: {
        text: 'line\nbreak\t"quote" \u0001 ✓ 😀',
        integer: 42,
        negative: -7,
        large: 2 ** 53 + 2,
        fraction: 0.25,
        notANumber: Number.NaN,
        yes: true,
        no: false,
        strings: ['a', 'b"c'],
        numbers: [1, 2.5],
        flags: [true, false],
        holes: ['x', null, undefined],
        empty: [],
      },
      links: [{ context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE, traceState: new TraceState('k=v') }, attributes: { reason: 'retry' } }, { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b8', traceFlags: TraceFlags.SAMPLED, isRemote: true } }],
    },
    trace.setSpan(context.active(), request),
  );
  child.addEvent('cache.read', { tier: 'near', bytes: 15_000 });
  child.addEvent('plain');
  child.recordException(new Error('boom "here"'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed: "boom"' });
  child.end();
  request.setStatus({ code: SpanStatusCode.OK });
  request.end();
  gateway.getTracer('versioned', '1.2.3', { schemaUrl: 'https://example.com/schema' }).startSpan('client call', { kind: SpanKind.CLIENT }).end();
  gateway.getTracer('trading-gateway').startSpan('second of its scope', { kind: SpanKind.PRODUCER, startTime: [5, 7] }).end([6, 999_999_999]);
  other.getTracer('elsewhere').startSpan('consumer', { kind: SpanKind.CONSUMER }).end();
  return exporter.getFinishedSpans();
}

