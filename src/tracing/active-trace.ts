import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * The trace and span of the active context, for log lines and error reports; `undefined` outside
 * any trace. Reads the API's context, which only a Tracing makes: with tracing off it is always empty.
 */
export function activeTraceIds(): { readonly traceId: string; readonly spanId: string } | undefined {
  const span = trace.getSpan(context.active());
  if (span === undefined) return undefined;
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { traceId: ids.traceId, spanId: ids.spanId } : undefined;
}
