/**
 * Reads an OTLP/protobuf export (ExportTraceServiceRequest) into the shape of its OTLP/JSON
 * encoding (ids in hex, times as decimal strings, `intValue` as a number when it is safe, else a
 * string), with proto3's defaults filled in: two encodings of the same spans read the same, and a
 * receiver can take either. A reader of the wire format driven by the fields of opentelemetry-proto's
 * trace/v1 and common/v1 messages (below), for the tests and the bench; it knows no other message.
 */
export function decodeExportRequest(bytes: Uint8Array): { resourceSpans: Record<string, unknown>[] } {
  return exportTraceServiceRequest(bytes) as { resourceSpans: Record<string, unknown>[] };
}

/** An OTLP/HTTP export body in either encoding, by its content type, read into the one shape above. */
export function readExportRequest(body: Buffer, contentType: string | undefined): { resourceSpans: Record<string, unknown>[] } {
  return contentType === 'application/x-protobuf' ? decodeExportRequest(body) : (JSON.parse(body.toString('utf8')) as { resourceSpans: Record<string, unknown>[] });
}

type WireValue = number | bigint | Uint8Array;
type Read = (value: WireValue) => unknown;

/** A message's reader: each known field's name, how its value reads, whether it repeats; the rest of proto3's defaults. */
function message(fieldsByNumber: Record<number, readonly [name: string, read: Read, repeated?: 'repeated']>, defaults: () => Record<string, unknown>): Read {
  return (value) => {
    const out = defaults();
    for (const [field, wire] of fields(value as Uint8Array)) {
      const known = fieldsByNumber[field];
      if (known === undefined) continue;
      const [name, read, repeated] = known;
      const decoded = read(wire);
      if (repeated === undefined) {
        if (decoded !== undefined) out[name] = decoded;
      } else (out[name] as unknown[]).push(decoded);
    }
    return out;
  };
}

const text: Read = (value) => Buffer.from(value as Uint8Array).toString('utf8');
const hex: Read = (value) => Buffer.from(value as Uint8Array).toString('hex');
const number: Read = (value) => Number(value);
const nanos: Read = (value) => String(value);
/** An id that may be empty (no parent): left out then. */
const optionalHex: Read = (value) => ((value as Uint8Array).length === 0 ? undefined : hex(value));
const int64: Read = (value) => {
  const signed = BigInt.asIntN(64, BigInt(value as number | bigint));
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed.toString();
};

// AnyValue and KeyValue hold each other: each reaches the other through a function, read when called.
const keyValue = message({ 1: ['key', text], 2: ['value', (value) => anyValue(value)] }, () => ({ key: '', value: {} }));
const anyValue: Read = message(
  {
    1: ['stringValue', text],
    2: ['boolValue', (value) => value !== 0 && value !== 0n],
    3: ['intValue', int64],
    4: ['doubleValue', (value) => Buffer.from(value as Uint8Array).readDoubleLE(0)],
    5: ['arrayValue', message({ 1: ['values', (value) => anyValue(value), 'repeated'] }, () => ({ values: [] }))],
    6: ['kvlistValue', message({ 1: ['values', keyValue, 'repeated'] }, () => ({ values: [] }))],
    7: ['bytesValue', (value) => Buffer.from(value as Uint8Array).toString('base64')],
  },
  () => ({}),
);

const status = message({ 2: ['message', text], 3: ['code', number] }, () => ({ code: 0 }));
const event = message({ 1: ['timeUnixNano', nanos], 2: ['name', text], 3: ['attributes', keyValue, 'repeated'], 4: ['droppedAttributesCount', number] }, () => ({ attributes: [], name: '', timeUnixNano: '0', droppedAttributesCount: 0 }));
const link = message(
  { 1: ['traceId', hex], 2: ['spanId', hex], 3: ['traceState', text], 4: ['attributes', keyValue, 'repeated'], 5: ['droppedAttributesCount', number], 6: ['flags', number] },
  () => ({ attributes: [], spanId: '', traceId: '', droppedAttributesCount: 0, flags: 0 }),
);
const span = message(
  {
    1: ['traceId', hex],
    2: ['spanId', hex],
    3: ['traceState', text],
    4: ['parentSpanId', optionalHex],
    5: ['name', text],
    6: ['kind', number],
    7: ['startTimeUnixNano', nanos],
    8: ['endTimeUnixNano', nanos],
    9: ['attributes', keyValue, 'repeated'],
    10: ['droppedAttributesCount', number],
    11: ['events', event, 'repeated'],
    12: ['droppedEventsCount', number],
    13: ['links', link, 'repeated'],
    14: ['droppedLinksCount', number],
    15: ['status', status],
    16: ['flags', number],
  },
  () => ({ traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [], droppedAttributesCount: 0, events: [], droppedEventsCount: 0, status: { code: 0 }, links: [], droppedLinksCount: 0, flags: 0 }),
);
const scope = message({ 1: ['name', text], 2: ['version', text] }, () => ({ name: '' }));
const scopeSpans = message({ 1: ['scope', scope], 2: ['spans', span, 'repeated'], 3: ['schemaUrl', text] }, () => ({ scope: {}, spans: [] }));
const resource = message({ 1: ['attributes', keyValue, 'repeated'], 2: ['droppedAttributesCount', number] }, () => ({ attributes: [], droppedAttributesCount: 0 }));
const resourceSpans = message({ 1: ['resource', resource], 2: ['scopeSpans', scopeSpans, 'repeated'], 3: ['schemaUrl', text] }, () => ({ resource: { attributes: [], droppedAttributesCount: 0 }, scopeSpans: [] }));
const exportTraceServiceRequest = message({ 1: ['resourceSpans', resourceSpans, 'repeated'] }, () => ({ resourceSpans: [] }));

/**
 * A message's fields in order: varints as numbers (bigints past 2^53), fixed64 as bigints (the
 * times) or as bytes (a double), fixed32 as numbers, length-delimited ones as bytes.
 */
function fields(bytes: Uint8Array): [field: number, value: WireValue][] {
  const out: [number, WireValue][] = [];
  let at = 0;
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
  while (at < bytes.length) {
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
      if (at + length > bytes.length) throw new Error('a field runs past the end of its message');
      out.push([field, bytes.subarray(at, at + length)]);
      at += length;
    } else if (wireType === 5) {
      out.push([field, Buffer.from(bytes.buffer, bytes.byteOffset + at, 4).readUInt32LE(0)]);
      at += 4;
    } else throw new Error(`wire type ${wireType} is not used by OTLP's trace messages`);
  }
  return out;
}
