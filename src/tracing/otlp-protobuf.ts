import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { AttributeEntries, type ScalarValue } from './attribute-entries';
import { groupByResourceAndScope, otlpFlags } from './otlp-common';

/**
 * The OTLP/protobuf body of an export (ExportTraceServiceRequest, opentelemetry-proto's
 * trace/v1 and common/v1 messages), written straight into one buffer: OTLP/HTTP's default
 * encoding, and the cheap one to make here. Against the OTLP/JSON body of the same spans it is a
 * third of the bytes (ids and times in binary), and an attribute that spans repeat (`gateway.cache`
 * HIT, the method, the status) is copied in from bytes remembered for it. The test
 * (otlp-protobuf.test.ts) holds it to the SDK's ProtobufTraceSerializer, field by field.
 */
export function exportRequestProtobuf(spans: readonly ReadableSpan[]): Buffer {
  const out = new ProtoWriter(spans.length * 256 + 256);
  for (const [resource, byScope] of groupByResourceAndScope(spans)) {
    const resourceSpans = out.begin(1);
    const resourceMessage = out.begin(1);
    writeAttributes(out, 1, resource.attributes);
    out.end(resourceMessage);
    for (const ofScope of byScope) {
      const scopeSpans = out.begin(2);
      const scope = ofScope[0]!.instrumentationScope;
      writeScope(out, scope);
      for (const span of ofScope) writeSpan(out, span);
      if (scope.schemaUrl) out.string(3, scope.schemaUrl);
      out.end(scopeSpans);
    }
    if (resource.schemaUrl) out.string(3, resource.schemaUrl);
    out.end(resourceSpans);
  }
  return out.done();
}

function writeScope(out: ProtoWriter, scope: InstrumentationScope): void {
  const message = out.begin(1);
  out.string(1, scope.name);
  if (scope.version !== undefined) out.string(2, scope.version);
  out.end(message);
}

function writeSpan(out: ProtoWriter, span: ReadableSpan): void {
  const message = out.begin(2);
  const ids = span.spanContext();
  const parent = span.parentSpanContext;
  out.hex(1, ids.traceId);
  out.hex(2, ids.spanId);
  writeTraceState(out, 3, ids);
  if (parent?.spanId) out.hex(4, parent.spanId);
  out.string(5, span.name);
  out.uint(6, span.kind + 1);
  out.time(7, span.startTime);
  out.time(8, span.endTime);
  writeAttributes(out, 9, span.attributes);
  out.uint(10, span.droppedAttributesCount);
  for (const event of span.events) {
    const eventMessage = out.begin(11);
    out.time(1, event.time);
    out.string(2, event.name);
    writeAttributes(out, 3, event.attributes ?? {});
    out.uint(4, event.droppedAttributesCount ?? 0);
    out.end(eventMessage);
  }
  out.uint(12, span.droppedEventsCount);
  for (const link of span.links) {
    const linkMessage = out.begin(13);
    out.hex(1, link.context.traceId);
    out.hex(2, link.context.spanId);
    writeTraceState(out, 3, link.context);
    writeAttributes(out, 4, link.attributes ?? {});
    out.uint(5, link.droppedAttributesCount ?? 0);
    out.fixed32(6, otlpFlags(link.context.traceFlags, link.context.isRemote));
    out.end(linkMessage);
  }
  out.uint(14, span.droppedLinksCount);
  const { code, message: statusMessage } = span.status;
  const status = out.begin(15);
  if (statusMessage !== undefined) out.string(2, statusMessage);
  out.uint(3, code);
  out.end(status);
  out.fixed32(16, otlpFlags(ids.traceFlags, parent?.isRemote));
  out.end(message);
}

function writeTraceState(out: ProtoWriter, field: number, ids: SpanContext): void {
  if (ids.traceState !== undefined) out.string(field, ids.traceState.serialize());
}

function writeAttributes(out: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    // Attributes given at a span's start are taken as they are: an empty one is left out, as the SDK leaves it out.
    if (!Object.hasOwn(attributes, key) || value === undefined || value === null) continue;
    if (typeof value === 'object') writeKeyValue(out, field, key, value);
    else out.bytes(rememberedEntry(field, key, value));
  }
}

function writeKeyValue(out: ProtoWriter, field: number, key: string, value: unknown): void {
  const entry = out.begin(field);
  out.string(1, key);
  writeAnyValue(out, 2, value);
  out.end(entry);
}

/** A KeyValue entry of a scalar in `field`, remembered (see AttributeEntries): a repeated attribute costs one copy. */
function rememberedEntry(field: number, key: string, value: ScalarValue): Uint8Array {
  const ofField = (entriesByField[field] ??= new AttributeEntries((entryKey, entryValue) => {
    const writer = new ProtoWriter(64);
    writeKeyValue(writer, field, entryKey, entryValue);
    return writer.done();
  }));
  return ofField.of(key, value);
}
/** By field: a resource's, a span's, an event's or a link's attributes. */
const entriesByField: AttributeEntries<Uint8Array>[] = [];

/** OTLP's AnyValue, as the SDK encodes one (integers as int_value, other numbers as double_value, nested lists and maps). */
function writeAnyValue(out: ProtoWriter, field: number, value: unknown): void {
  const message = out.begin(field);
  if (typeof value === 'string') out.string(1, value);
  else if (typeof value === 'boolean') out.uint(2, value ? 1 : 0, true);
  else if (typeof value === 'number') {
    if (Number.isInteger(value)) out.int64(3, value);
    else out.double(4, value);
  } else if (value instanceof Uint8Array) out.lengthDelimited(7, value);
  else if (Array.isArray(value)) {
    const list = out.begin(5);
    for (const item of value) writeAnyValue(out, 1, item);
    out.end(list);
  } else if (typeof value === 'object' && value !== null) {
    const list = out.begin(6);
    for (const [key, item] of Object.entries(value)) writeKeyValue(out, 1, key, item);
    out.end(list);
  }
  out.end(message);
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
/** Room left for a nested message's length before its content is written: a varint of up to 2^35. */
const LENGTH_ROOM = 5;

/**
 * Protobuf's wire format into a growing buffer. A nested message is written after room for its
 * length, which is filled in when it ends (and the content moved up to the length's real size),
 * so that each message is written once.
 */
class ProtoWriter {
  private buffer: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Starts a nested message in `field`; returns where, for `end`. */
  begin(field: number): number {
    this.tag(field, LENGTH_DELIMITED);
    this.room(LENGTH_ROOM);
    const start = this.at;
    this.at += LENGTH_ROOM;
    return start;
  }

  end(start: number): void {
    const contentStart = start + LENGTH_ROOM;
    const length = this.at - contentStart;
    const lengthSize = varintSize(length);
    writeVarint(this.buffer, start, length);
    if (lengthSize < LENGTH_ROOM) {
      this.buffer.copyWithin(start + lengthSize, contentStart, this.at);
      this.at -= LENGTH_ROOM - lengthSize;
    }
  }

  /** A field with a default value is left out, as proto3 does; `always` writes it anyway (a oneof's member). */
  uint(field: number, value: number, always = false): void {
    if (value === 0 && !always) return;
    this.tag(field, VARINT);
    this.varint(value);
  }

  int64(field: number, value: number): void {
    this.tag(field, VARINT);
    if (value >= 0 && value <= 0xffffffff) this.varint(value);
    else {
      // Negative or past 32 bits: two's complement on 64 bits, as protobuf's int64 takes it.
      let rest = BigInt.asUintN(64, BigInt(value));
      this.room(10);
      while (rest >= 0x80n) {
        this.buffer[this.at++] = Number(rest & 0x7fn) | 0x80;
        rest >>= 7n;
      }
      this.buffer[this.at++] = Number(rest);
    }
  }

  double(field: number, value: number): void {
    this.tag(field, FIXED64);
    this.room(8);
    this.at = this.buffer.writeDoubleLE(value, this.at);
  }

  fixed32(field: number, value: number): void {
    this.tag(field, FIXED32);
    this.room(4);
    this.at = this.buffer.writeUInt32LE(value >>> 0, this.at);
  }

  /** A time as fixed64 nanoseconds since the epoch, computed exactly (past 2^53) without BigInt. */
  time(field: number, [seconds, nanos]: HrTime): void {
    this.tag(field, FIXED64);
    this.room(8);
    // seconds × 10^9 = (seconds × 5^9) × 2^9, and seconds × 5^9 stays below 2^53 until the year 2550.
    const scaled = seconds * 1_953_125;
    const high = Math.floor(scaled / 2 ** 23);
    const low = (scaled - high * 2 ** 23) * 512 + nanos;
    const carry = Math.floor(low / 2 ** 32);
    this.buffer.writeUInt32LE(low - carry * 2 ** 32, this.at);
    this.buffer.writeUInt32LE(high + carry, this.at + 4);
    this.at += 8;
  }

  string(field: number, text: string): void {
    this.tag(field, LENGTH_DELIMITED);
    const length = Buffer.byteLength(text);
    this.varint(length);
    this.room(length);
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  /** Bytes given as hex (trace and span ids). */
  hex(field: number, hex: string): void {
    this.tag(field, LENGTH_DELIMITED);
    const length = hex.length >> 1;
    this.varint(length);
    this.room(length);
    this.at += this.buffer.write(hex, this.at, length, 'hex');
  }

  lengthDelimited(field: number, bytes: Uint8Array): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(bytes.length);
    this.bytes(bytes);
  }

  /** Bytes already encoded (a remembered entry). */
  bytes(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
  }

  done(): Buffer {
    return this.buffer.subarray(0, this.at);
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  private varint(value: number): void {
    this.room(LENGTH_ROOM);
    this.at = writeVarint(this.buffer, this.at, value);
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

/** `value` (0 to 2^35) as a varint at `at`; returns where it ends. */
function writeVarint(buffer: Buffer, at: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    buffer[at++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buffer[at++] = rest;
  return at;
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) size += 1;
  return size;
}
