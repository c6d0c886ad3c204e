import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Spans by resource, then by instrumentation scope, in the order they came: an OTLP export's nesting. */
export function groupByResourceAndScope(spans: readonly ReadableSpan[]): Map<Resource, ReadableSpan[][]> {
  const byResource = new Map<Resource, Map<string, ReadableSpan[]>>();
  // Spans of one tracer share their scope object: its key is made once per run of them.
  let lastScope: InstrumentationScope | undefined;
  let scopeKey = '';
  for (const span of spans) {
    let byScope = byResource.get(span.resource);
    if (byScope === undefined) {
      byScope = new Map();
      byResource.set(span.resource, byScope);
    }
    if (span.instrumentationScope !== lastScope) {
      lastScope = span.instrumentationScope;
      const { name, version = '', schemaUrl = '' } = lastScope;
      scopeKey = `${name}@${version}:${schemaUrl}`;
    }
    const ofScope = byScope.get(scopeKey);
    if (ofScope === undefined) byScope.set(scopeKey, [span]);
    else ofScope.push(span);
  }
  return new Map([...byResource].map(([resource, byScope]) => [resource, [...byScope.values()]]));
}

/** OTLP's span and link flags: the W3C trace flags, and whether the parent is remote (known: bit 8; remote: bit 9). */
export function otlpFlags(traceFlags: number, remote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (remote === true ? 0x200 : 0);
}
