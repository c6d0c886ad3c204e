import { isSpanContextValid, type SpanContext, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, AlwaysOnSampler, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

import { exportRequestJson } from '../../src/tracing/otlp-json';
import { RecordedSpan, SpanIds, type SpanSink } from '../../src/tracing/recorded-span';
import { Tracing } from '../../src/tracing/tracing';

/** A sink that keeps what ends. */
function sink(): SpanSink & { readonly ended: ReadableSpan[] } {
  const ended: ReadableSpan[] = [];
  const processor: SpanProcessor = { onStart: () => undefined, onEnd: (span) => ended.push(span), forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  return { processor, resource: resourceFromAttributes({ 'service.name': 'gateway' }), scope: { name: 'trading-gateway' }, ended };
}

const remote: SpanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('vendor=a') };

describe('RecordedSpan', () => {
  it('is exported as the SDK’s serializer exports it: ids, parent, trace state, kind, times, attributes, events, links, status', () => {
    const to = sink();
    const ids = new SpanIds();
    const request = new RecordedSpan('POST /graphql', SpanKind.SERVER, ids.of(remote), remote, { 'http.request.method': 'POST', 'url.path': '/graphql' }, to);
    const operation = new RecordedSpan('query Board', SpanKind.INTERNAL, ids.of(request.spanContext()), request.spanContext(), { 'graphql.operation.type': 'query' }, to);
    operation.setAttributes({ 'gateway.cache': 'HIT', count: 3, ratio: 0.5, yes: true, names: ['a', 'b'] });
    operation.addEvent('cache.read', { tier: 'near' });
    operation.addEvent('at a time', [1_700_000_000, 5]);
    operation.recordException(Object.assign(new Error('boom'), { code: 'E_BOOM' }));
    operation.addLink({ context: remote, attributes: { reason: 'retry' } });
    operation.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
    operation.end();
    request.setAttribute('http.response.status_code', 200);
    request.end();

    expect(to.ended).toEqual([operation, request]);
    const ours: unknown = JSON.parse(exportRequestJson(to.ended));
    const sdks: unknown = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(to.ended)));
    expect(ours).toEqual(sdks);
    expect(ours).toMatchObject({
      resourceSpans: [
        {
          scopeSpans: [
            {
              scope: { name: 'trading-gateway' },
              spans: [
                { traceId: remote.traceId, parentSpanId: request.spanContext().spanId, traceState: 'vendor=a', name: 'query Board', kind: 1, status: { code: 2, message: 'it failed' }, events: [{ name: 'cache.read' }, { name: 'at a time', timeUnixNano: '1700000000000000005' }, { name: 'exception' }] },
                { traceId: remote.traceId, parentSpanId: remote.spanId, name: 'POST /graphql', kind: 2, flags: 0x301 },
              ],
            },
          ],
        },
      ],
    });
  });

  it('takes its times from the monotonic clock on the epoch: start ≤ end, near the wall clock', async () => {
    const to = sink();
    const before = Date.now();
    const span = new RecordedSpan('timed', SpanKind.INTERNAL, new SpanIds().of(undefined), undefined, undefined, to);
    await new Promise((resolve) => setTimeout(resolve, 20));
    span.end();
    const ms = ([seconds, nanos]: readonly [number, number]) => seconds * 1000 + nanos / 1e6;
    expect(ms(span.startTime)).toBeGreaterThanOrEqual(before - 5);
    expect(ms(span.startTime)).toBeLessThanOrEqual(Date.now());
    expect(ms(span.endTime) - ms(span.startTime)).toBeGreaterThanOrEqual(19);
    expect(ms(span.duration)).toBeCloseTo(ms(span.endTime) - ms(span.startTime), 3);
    expect(span.endTime[1]).toBeLessThan(1e9);
  });

  it('changes nothing once ended, and ends once', () => {
    const to = sink();
    const span = new RecordedSpan('once', SpanKind.INTERNAL, new SpanIds().of(undefined), undefined, { a: 1 }, to);
    span.setStatus({ code: SpanStatusCode.OK });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'too late: OK is final' });
    span.end();
    expect(span.isRecording()).toBe(false);
    span.setAttribute('b', 2).addEvent('late').addLink({ context: remote }).updateName('renamed');
    span.end();
    expect(to.ended).toHaveLength(1);
    expect(span).toMatchObject({ name: 'once', attributes: { a: 1 }, events: [], links: [], status: { code: SpanStatusCode.OK } });
  });

  it('draws valid ids, different each time; a child stays in its parent’s trace', () => {
    const ids = new SpanIds();
    const drawn = Array.from({ length: 2000 }, () => ids.of(undefined));
    expect(drawn.every((context) => isSpanContextValid(context) && /^[0-9a-f]{32}$/.test(context.traceId) && /^[0-9a-f]{16}$/.test(context.spanId))).toBe(true);
    expect(new Set(drawn.map((context) => context.traceId)).size).toBe(2000);
    expect(new Set(drawn.map((context) => context.spanId)).size).toBe(2000);
    const child = ids.of(remote);
    expect(child).toMatchObject({ traceId: remote.traceId, traceFlags: TraceFlags.SAMPLED, traceState: remote.traceState });
    expect(child.spanId).not.toBe(remote.spanId);
  });
});

describe('Tracing.startRequest', () => {
  const tracingTo = (to: SpanSink) => new Tracing(to, new AlwaysOnSampler(), () => true, new AsyncLocalStorageContextManager().enable());
  const describeRequest = () => ['GET', { 'http.request.method': 'GET' }] as const;

  it('continues a caller’s trace', () => {
    const to = sink();
    const started = tracingTo(to).startRequest({ traceparent: `00-${remote.traceId}-${remote.spanId}-01` }, describeRequest, undefined);
    started?.span?.end();
    expect(to.ended[0]).toMatchObject({ parentSpanContext: { traceId: remote.traceId, spanId: remote.spanId, isRemote: true } });
    expect(to.ended[0]!.spanContext().traceId).toBe(remote.traceId);
  });

  it('runs the request in a context that holds its span, and a caller’s trace passed on unsampled in one that holds that trace', () => {
    const to = sink();
    const started = tracingTo(to).startRequest({}, describeRequest, undefined);
    expect(started?.span).toBeDefined();
    expect(trace.getSpan(started!.context)).toBe(started!.span);
    const unsampled = new Tracing(to, new AlwaysOffSampler(), () => false, new AsyncLocalStorageContextManager().enable());
    const passedOn = unsampled.startRequest({ traceparent: `00-${remote.traceId}-${remote.spanId}-01` }, describeRequest, undefined);
    expect(passedOn?.span).toBeUndefined();
    expect(trace.getSpanContext(passedOn!.context)).toMatchObject({ traceId: remote.traceId, spanId: remote.spanId, isRemote: true });
    expect(unsampled.startRequest({}, describeRequest, undefined)).toBeUndefined();
  });

  it('starts a trace of its own for a traceparent with an all-zero id, which W3C says is none', () => {
    const to = sink();
    const started = tracingTo(to).startRequest({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }, describeRequest, undefined);
    started?.span?.end();
    expect(to.ended).toHaveLength(1);
    expect(to.ended[0]!.parentSpanContext).toBeUndefined();
    expect(isSpanContextValid(to.ended[0]!.spanContext())).toBe(true);
  });
});
