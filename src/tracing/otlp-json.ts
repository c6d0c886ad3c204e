import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { AttributeEntries } from './attribute-entries';
import { groupByResourceAndScope, otlpFlags } from './otlp-common';

/**
 * The OTLP/JSON body of an export (ExportTraceServiceRequest), for OTEL_EXPORTER_OTLP_PROTOCOL=
 * http/json (protobuf, otlp-protobuf.ts, is the default and the cheaper), written as text in one
 * pass: the same document the SDK's JsonTraceSerializer makes, which builds an object per span,
 * attribute and value, then stringifies it. The test (otlp-json.test.ts) holds the two to the
 * same parsed document.
 *
 * Trace and span ids are written as they are: the SDK makes them as lowercase hex, and the
 * propagator only accepts hex from a caller's `traceparent`.
 */
export function exportRequestJson(spans: readonly ReadableSpan[]): string {
  let out = '{"resourceSpans":[';
  let firstResource = true;
  for (const [resource, byScope] of groupByResourceAndScope(spans)) {
    out += `${firstResource ? '' : ','}{"resource":{"attributes":${attributesJson(resource.attributes)},"droppedAttributesCount":0${schemaUrlJson(resource.schemaUrl)}},"scopeSpans":[`;
    firstResource = false;
    let firstScope = true;
    for (const ofScope of byScope) {
      const scope = ofScope[0]!.instrumentationScope;
      out += `${firstScope ? '' : ','}{"scope":${scopeJson(scope)},"spans":[`;
      firstScope = false;
      out += `${ofScope.map(spanJson).join(',')}]${schemaUrlJson(scope.schemaUrl)}}`;
    }
    out += `]${schemaUrlJson(resource.schemaUrl)}}`;
  }
  return `${out}]}`;
}

function spanJson(span: ReadableSpan): string {
  const ids = span.spanContext();
  const parent = span.parentSpanContext;
  const { code, message } = span.status;
  let out = `{"traceId":"${ids.traceId}","spanId":"${ids.spanId}"`;
  if (parent?.spanId) out += `,"parentSpanId":"${parent.spanId}"`;
  out += traceStateJson(ids);
  out += `,"name":${quote(span.name)},"kind":${span.kind + 1},"startTimeUnixNano":"${nanos(span.startTime)}","endTimeUnixNano":"${nanos(span.endTime)}"`;
  out += `,"attributes":${attributesJson(span.attributes)},"droppedAttributesCount":${span.droppedAttributesCount}`;
  out += `,"events":[${span.events.map((event) => `{"attributes":${attributesJson(event.attributes ?? {})},"name":${JSON.stringify(event.name)},"timeUnixNano":"${nanos(event.time)}","droppedAttributesCount":${event.droppedAttributesCount ?? 0}}`).join(',')}]`;
  out += `,"droppedEventsCount":${span.droppedEventsCount},"status":{"code":${code}${message === undefined ? '' : `,"message":${JSON.stringify(message)}`}}`;
  out += `,"links":[${span.links
    .map((link) => `{"attributes":${attributesJson(link.attributes ?? {})},"spanId":"${link.context.spanId}","traceId":"${link.context.traceId}"${traceStateJson(link.context)},"droppedAttributesCount":${link.droppedAttributesCount ?? 0},"flags":${otlpFlags(link.context.traceFlags, link.context.isRemote)}}`)
    .join(',')}]`;
  return `${out},"droppedLinksCount":${span.droppedLinksCount},"flags":${otlpFlags(ids.traceFlags, parent?.isRemote)}}`;
}

function traceStateJson(ids: SpanContext): string {
  return ids.traceState === undefined ? '' : `,"traceState":${JSON.stringify(ids.traceState.serialize())}`;
}

function scopeJson(scope: InstrumentationScope): string {
  const version = scope.version === undefined ? '' : `,"version":${JSON.stringify(scope.version)}`;
  return `{"name":${JSON.stringify(scope.name)}${version}}`;
}

function schemaUrlJson(schemaUrl: string | undefined): string {
  return schemaUrl ? `,"schemaUrl":${JSON.stringify(schemaUrl)}` : '';
}

function attributesJson(attributes: Attributes): string {
  let out = '[';
  let first = true;
  for (const key in attributes) {
    const value = attributes[key];
    // Attributes given at a span's start are taken as they are: an empty one is left out, as the SDK leaves it out.
    if (!Object.hasOwn(attributes, key) || value === undefined || value === null) continue;
    out += (first ? '' : ',') + attributeJson(key, value);
    first = false;
  }
  return `${out}]`;
}

/** One attribute's entry; a scalar's is remembered (see AttributeEntries). */
function attributeJson(key: string, value: AttributeValue): string {
  return typeof value === 'object' ? entryJson(key, value) : attributeEntries.of(key, value);
}
const entryJson = (key: string, value: unknown) => `{"key":${quote(key)},"value":${valueJson(value)}}`;
const attributeEntries = new AttributeEntries<string>(entryJson);

/** OTLP's AnyValue, as the SDK encodes one (integers as intValue, byte arrays in base64, nested lists and maps). */
function valueJson(value: unknown): string {
  if (typeof value === 'string') return `{"stringValue":${quote(value)}}`;
  if (typeof value === 'number') return `{"${Number.isInteger(value) ? 'intValue' : 'doubleValue'}":${JSON.stringify(value)}}`;
  if (typeof value === 'boolean') return `{"boolValue":${value}}`;
  if (value instanceof Uint8Array) return `{"bytesValue":"${Buffer.from(value).toString('base64')}"}`;
  if (Array.isArray(value)) return `{"arrayValue":{"values":[${value.map(valueJson).join(',')}]}}`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value).map((key) => `{"key":${JSON.stringify(key)},"value":${valueJson((value as Record<string, unknown>)[key])}}`);
    return `{"kvlistValue":{"values":[${entries.join(',')}]}}`;
  }
  return '{}';
}

/**
 * A string as JSON. The same few names, keys and values make up most spans (span names,
 * attribute keys, `HIT`): their JSON is remembered, up to a bound.
 */
function quote(text: string): string {
  let quoted = quotedStrings.get(text);
  if (quoted === undefined) {
    quoted = JSON.stringify(text);
    if (text.length <= 256) {
      if (quotedStrings.size >= 4096) quotedStrings.clear();
      quotedStrings.set(text, quoted);
    }
  }
  return quoted;
}
const quotedStrings = new Map<string, string>();

/** An HrTime as OTLP/JSON's decimal string of nanoseconds since the epoch. */
function nanos([seconds, fraction]: HrTime): string {
  const whole = Math.trunc(seconds);
  const part = Math.trunc(fraction);
  if (whole > 0 && whole <= Number.MAX_SAFE_INTEGER && part >= 0 && part < 1e9) return `${whole}${String(part).padStart(9, '0')}`;
  return (BigInt(whole) * 1_000_000_000n + BigInt(part)).toString();
}
