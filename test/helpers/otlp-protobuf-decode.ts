/**
 * Reads an OTLP/protobuf export (ExportTraceServiceRequest) into the shape of its OTLP/JSON
 * encoding (ids in hex, times as decimal strings, `intValue` as a number when it is safe, else a
 * string), with proto3's defaults filled in: two encodings of the same spans read the same, and a
 * receiver can take either. A reader of the wire format written from opentelemetry-proto's
 * trace/v1 and common/v1 messages, for the tests and the bench; it knows no other message.
 */
export type OtlpValue = { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number; bytesValue?: string; arrayValue?: { values: OtlpValue[] }; kvlistValue?: { values: OtlpKeyValue[] } };
export interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

export function decodeExportRequest(bytes: Uint8Array): { resourceSpans: Record<string, unknown>[] } {
  return { resourceSpans: fields(bytes, 0, bytes.length).filter(([field]) => field === 1).map(([, value]) => resourceSpans(value as Uint8Array)) };
}

type Field = [field: number, value: number | bigint | Uint8Array];

function resourceSpans(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { resource: { attributes: [], droppedAttributesCount: 0 }, scopeSpans: [] };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.resource = resource(value as Uint8Array);
    else if (field === 2) (out.scopeSpans as unknown[]).push(scopeSpans(value as Uint8Array));
    else if (field === 3) out.schemaUrl = text(value);
  }
  return out;
}

function resource(bytes: Uint8Array): Record<string, unknown> {
  const out = { attributes: [] as OtlpKeyValue[], droppedAttributesCount: 0 };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.attributes.push(keyValue(value as Uint8Array));
    else if (field === 2) out.droppedAttributesCount = Number(value);
  }
  return out;
}

function scopeSpans(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { scope: {}, spans: [] };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.scope = scope(value as Uint8Array);
    else if (field === 2) (out.spans as unknown[]).push(span(value as Uint8Array));
    else if (field === 3) out.schemaUrl = text(value);
  }
  return out;
}

function scope(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { name: '' };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.name = text(value);
    else if (field === 2) out.version = text(value);
  }
  return out;
}

function span(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [], droppedAttributesCount: 0, events: [], droppedEventsCount: 0, status: { code: 0 }, links: [], droppedLinksCount: 0, flags: 0 };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    switch (field) {
      case 1:
        out.traceId = hex(value);
        break;
      case 2:
        out.spanId = hex(value);
        break;
      case 3:
        out.traceState = text(value);
        break;
      case 4:
        if ((value as Uint8Array).length > 0) out.parentSpanId = hex(value);
        break;
      case 5:
        out.name = text(value);
        break;
      case 6:
        out.kind = Number(value);
        break;
      case 7:
        out.startTimeUnixNano = String(value);
        break;
      case 8:
        out.endTimeUnixNano = String(value);
        break;
      case 9:
        (out.attributes as OtlpKeyValue[]).push(keyValue(value as Uint8Array));
        break;
      case 10:
        out.droppedAttributesCount = Number(value);
        break;
      case 11:
        (out.events as unknown[]).push(event(value as Uint8Array));
        break;
      case 12:
        out.droppedEventsCount = Number(value);
        break;
      case 13:
        (out.links as unknown[]).push(link(value as Uint8Array));
        break;
      case 14:
        out.droppedLinksCount = Number(value);
        break;
      case 15:
        out.status = status(value as Uint8Array);
        break;
      case 16:
        out.flags = Number(value);
        break;
    }
  }
  return out;
}

function event(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: [], name: '', timeUnixNano: '0', droppedAttributesCount: 0 };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.timeUnixNano = String(value);
    else if (field === 2) out.name = text(value);
    else if (field === 3) (out.attributes as OtlpKeyValue[]).push(keyValue(value as Uint8Array));
    else if (field === 4) out.droppedAttributesCount = Number(value);
  }
  return out;
}

function link(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: [], spanId: '', traceId: '', droppedAttributesCount: 0, flags: 0 };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.traceId = hex(value);
    else if (field === 2) out.spanId = hex(value);
    else if (field === 3) out.traceState = text(value);
    else if (field === 4) (out.attributes as OtlpKeyValue[]).push(keyValue(value as Uint8Array));
    else if (field === 5) out.droppedAttributesCount = Number(value);
    else if (field === 6) out.flags = Number(value);
  }
  return out;
}

function status(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = { code: 0 };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 2) out.message = text(value);
    else if (field === 3) out.code = Number(value);
  }
  return out;
}

function keyValue(bytes: Uint8Array): OtlpKeyValue {
  const out: OtlpKeyValue = { key: '', value: {} };
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.key = text(value);
    else if (field === 2) out.value = anyValue(value as Uint8Array);
  }
  return out;
}

function anyValue(bytes: Uint8Array): OtlpValue {
  const out: OtlpValue = {};
  for (const [field, value] of fields(bytes, 0, bytes.length)) {
    if (field === 1) out.stringValue = text(value);
    else if (field === 2) out.boolValue = value !== 0n && value !== 0;
    else if (field === 3) {
      const signed = BigInt.asIntN(64, BigInt(value as number | bigint));
      out.intValue = signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed.toString();
    } else if (field === 4) out.doubleValue = Buffer.from((value as Uint8Array).buffer, (value as Uint8Array).byteOffset, 8).readDoubleLE(0);
    else if (field === 5)
      out.arrayValue = {
        values: fields(value as Uint8Array, 0, (value as Uint8Array).length)
          .filter(([inner]) => inner === 1)
          .map(([, item]) => anyValue(item as Uint8Array)),
      };
    else if (field === 6)
      out.kvlistValue = {
        values: fields(value as Uint8Array, 0, (value as Uint8Array).length)
          .filter(([inner]) => inner === 1)
          .map(([, item]) => keyValue(item as Uint8Array)),
      };
    else if (field === 7) out.bytesValue = Buffer.from(value as Uint8Array).toString('base64');
  }
  return out;
}

const text = (value: Field[1]) => Buffer.from(value as Uint8Array).toString('utf8');
const hex = (value: Field[1]) => Buffer.from(value as Uint8Array).toString('hex');

/**
 * A message's fields in order: varints as numbers (bigints past 2^53), fixed64 as bigints (the
 * times) or as bytes (a double), fixed32 as numbers, length-delimited ones as bytes.
 */
function fields(bytes: Uint8Array, start: number, end: number): Field[] {
  const out: Field[] = [];
  let at = start;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error('a varint runs past the end of the message');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
      shift += 7n;
    }
  };
  while (at < end) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === 0) {
      const value = varint();
      out.push([field, value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value]);
    } else if (wireType === 1) {
      const view = Buffer.from(bytes.buffer, bytes.byteOffset + at, 8);
      // Field 4 is fixed64 only in AnyValue (a double, read from these bytes); every other fixed64 here is a time.
      out.push([field, field === 4 ? new Uint8Array(view) : view.readBigUInt64LE(0)]);
      at += 8;
    } else if (wireType === 2) {
      const length = Number(varint());
      if (at + length > end) throw new Error('a field runs past the end of its message');
      out.push([field, bytes.subarray(at, at + length)]);
      at += length;
    } else if (wireType === 5) {
      out.push([field, Buffer.from(bytes.buffer, bytes.byteOffset + at, 4).readUInt32LE(0)]);
      at += 4;
    } else throw new Error(`wire type ${wireType} is not used by OTLP's trace messages`);
  }
  return out;
}
