import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

import { exportRequestJson } from '../../src/tracing/otlp-json';
import { exportRequestProtobuf } from '../../src/tracing/otlp-protobuf';
import { decodeExportRequest } from '../helpers/otlp-protobuf-decode';
import { recordedSpans } from '../helpers/sdk-spans';

describe('exportRequestProtobuf (OTLP/protobuf export body)', () => {
  it('encodes what the SDK’s ProtobufTraceSerializer encodes, for every kind of span, attribute, event and link', () => {
    const spans = recordedSpans();
    const ours = decodeExportRequest(exportRequestProtobuf(spans));
    expect(ours).toEqual(decodeExportRequest(ProtobufTraceSerializer.serializeRequest(spans)!));
    // And the same ids, names and times as the JSON body (whose numbers JSON cannot carry exactly: 2^53 + 2, NaN).
    type Spans = { resourceSpans: { scopeSpans: { spans: { traceId: string; spanId: string; name: string; startTimeUnixNano: string; endTimeUnixNano: string }[] }[] }[] };
    const identity = (document: Spans) => document.resourceSpans.flatMap(({ scopeSpans }) => scopeSpans.flatMap(({ spans: ofScope }) => ofScope.map(({ traceId, spanId, name, startTimeUnixNano, endTimeUnixNano }) => ({ traceId, spanId, name, startTimeUnixNano, endTimeUnixNano }))));
    expect(identity(ours as unknown as Spans)).toEqual(identity(JSON.parse(exportRequestJson(spans)) as Spans));
  });

  it('encodes repeated attributes the same from its remembered entries as the first time', () => {
    const spans = recordedSpans();
    const first = exportRequestProtobuf(spans);
    expect(Buffer.compare(exportRequestProtobuf(spans), first)).toBe(0);
  });

  it('writes an empty export for no spans', () => {
    expect(exportRequestProtobuf([])).toHaveLength(0);
    expect(decodeExportRequest(exportRequestProtobuf([]))).toEqual({ resourceSpans: [] });
  });
});
