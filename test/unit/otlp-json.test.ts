import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';

import { exportRequestJson } from '../../src/tracing/otlp-json';
import { recordedSpans } from '../helpers/sdk-spans';

describe('exportRequestJson (OTLP/JSON export body)', () => {
  it('writes the document the SDK’s JsonTraceSerializer writes, for every kind of span, attribute, event and link', () => {
    const spans = recordedSpans();
    expect(spans).toHaveLength(5);
    const ours: unknown = JSON.parse(exportRequestJson(spans));
    const sdks: unknown = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
    expect(ours).toEqual(sdks);
    // And it is what the SDK calls it: two resources, the first with two scopes (three spans in one).
    expect(ours).toMatchObject({ resourceSpans: [{ scopeSpans: [{ spans: [{}, {}, {}] }, { scope: { name: 'versioned', version: '1.2.3' } }] }, { scopeSpans: [{ spans: [{ name: 'consumer' }] }] }] });
  });

  it('writes an empty export for no spans', () => {
    expect(JSON.parse(exportRequestJson([]))).toEqual({ resourceSpans: [] });
  });
});
