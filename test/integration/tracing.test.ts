import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';

import { createLogger } from '../../src/logger';
import { eventually } from '../helpers/eventually';
import { readExportRequest } from '../helpers/otlp-protobuf-decode';
import { RedisServer } from '../helpers/redis-server';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/** One span as an OTLP/HTTP export carries it, attributes flattened. */
interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's enum: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly status: { readonly code?: number };
  readonly serviceName: string;
}

const SERVER = 2;

/** A stand-in for a collector: accepts OTLP/HTTP exports (protobuf or JSON) on POST /v1/traces and keeps their spans. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces') {
          response.writeHead(404).end();
          return;
        }
        const contentType = request.headers['content-type'] ?? '';
        this.contentTypes.add(contentType);
        this.receive(readExportRequest(Buffer.concat(chunks), contentType));
        // A full success, as a collector answers it in each encoding (an empty ExportTraceServiceResponse).
        response.writeHead(200, { 'content-type': contentType }).end(contentType === 'application/x-protobuf' ? '' : '{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  /** The spans of one trace, once its request's span (the last to end) has arrived. */
  async trace(traceId: string): Promise<ReceivedSpan[]> {
    await eventually(() => this.spans.some((span) => span.traceId === traceId && span.kind === SERVER), 10_000, `the request span of trace ${traceId}`);
    // Spans of one trace may come in two exports: wait out one more export delay.
    await new Promise((resolve) => setTimeout(resolve, 150));
    return this.spans.filter((span) => span.traceId === traceId);
  }

  close(): Promise<void> {
    // The exporter keeps its connection alive: close it too, or the process would wait for it.
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }

  private receive(body: ExportRequest): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const serviceName = String(flatten(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
            name: span.name,
            kind: span.kind,
            attributes: flatten(span.attributes),
            status: span.status ?? {},
            serviceName,
          });
        }
      }
    }
  }
}

type OtlpAttribute = { key: string; value: { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean } };
interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[]; status?: { code?: number } }[] }[];
  }[];
}

function flatten(attributes: OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  const flat: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    const { stringValue, intValue, doubleValue, boolValue } = value;
    const found = stringValue ?? (intValue === undefined ? undefined : Number(intValue)) ?? doubleValue ?? boolValue;
    if (found !== undefined) flat[key] = found;
  }
  return flat;
}

/** A caller's own trace: a fresh trace id and parent span id, sampled. */
function callerTrace(sampled = true): { traceId: string; parentId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-${sampled ? '01' : '00'}` };
}

/** The tree of a trace's spans, for assertions: children of a span, descendants, one by name. */
function treeOf(spans: readonly ReceivedSpan[]) {
  const childrenOf = (span: ReceivedSpan) => spans.filter((candidate) => candidate.parentSpanId === span.spanId);
  const descendantsOf = (span: ReceivedSpan): ReceivedSpan[] => childrenOf(span).flatMap((child) => [child, ...descendantsOf(child)]);
  const request = spans.find((span) => span.kind === SERVER);
  if (request === undefined) throw new Error('no request span');
  return { request, childrenOf, descendantsOf };
}

const QUERY = '{ signals(symbol: "EUR_USD", limit: 3) { id user { username } currentPrice { bid } } }';

describe('OpenTelemetry tracing (OTLP/HTTP to a local receiver)', () => {
  const receiver = new OtlpReceiver();
  let redis: RedisServer;
  let gw: TestGateway;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const [endpoint, server] = await Promise.all([receiver.start(), RedisServer.start()]);
    redis = server;
    gw = await startTestGateway(
      {
        REDIS_URL: redis.url,
        REDIS_TIMEOUT: '0.5',
        REDIS_HEALTH_CHECK_INTERVAL_MS: '100',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_SERVICE_NAME: 'gateway-under-test',
        OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      },
      { logger: createLogger({ logLevel: 'info', nodeEnv: 'test' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) }) },
    );
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await redis?.stop();
    await receiver.close();
  });

  const post = (query: string, traceparent: string) =>
    fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent }, body: JSON.stringify({ query }) });

  it('on a miss: the request span (child of the caller’s traceparent) → the operation → response-cache read MISS, SQL and provider calls, the response-cache write', async () => {
    const caller = callerTrace();
    const response = await post(QUERY, caller.traceparent);
    expect(response.headers.get('x-cache')).toBe('MISS');
    await response.text();

    const spans = await receiver.trace(caller.traceId);
    const { request, childrenOf, descendantsOf } = treeOf(spans);
    expect(request).toMatchObject({
      name: 'POST /graphql',
      parentSpanId: caller.parentId,
      serviceName: 'gateway-under-test',
      attributes: { 'http.request.method': 'POST', 'url.path': '/graphql', 'http.response.status_code': 200, 'gateway.cache': 'MISS', 'gateway.answered_by': 'fastify' },
    });
    const operation = childrenOf(request).find((span) => span.attributes['graphql.operation.type'] === 'query');
    expect(operation?.attributes['gateway.cache']).toBe('MISS');
    const work = descendantsOf(operation!);
    const read = work.find((span) => span.name === 'response-cache.read');
    expect(read?.attributes['gateway.cache']).toBe('MISS');
    expect(childrenOf(read!).map((span) => [span.name, span.attributes['cache.tier']])).toEqual([['cache.mget', 'redis']]);
    const sql = work.filter((span) => span.attributes['db.system.name'] === 'postgresql');
    expect(sql.map((span) => span.name)).toEqual(expect.arrayContaining(['SELECT trading_signals', 'SELECT users']));
    expect(sql.every((span) => typeof span.attributes['db.query.text'] === 'string')).toBe(true);
    expect(work.find((span) => span.name === 'market.getPrices')?.attributes['gateway.market.provider']).toBe('simulated');
    expect(work.find((span) => span.name === 'cache.fleet_flight')?.attributes['gateway.fleet_flight.outcome']).toBe('loaded');
    const write = work.find((span) => span.name === 'response-cache.write');
    expect(write?.attributes['gateway.response_cache.stored']).toBe(true);
    expect(childrenOf(write!).map((span) => [span.name, span.attributes['cache.tier']])).toEqual([['cache.mset', 'redis']]);
    // The exporter speaks OTLP/HTTP's default encoding, protobuf (OTEL_EXPORTER_OTLP_PROTOCOL: see the last test for JSON).
    expect([...receiver.contentTypes]).toEqual(['application/x-protobuf']);
  });

  it('on a repeat: a span answered by the hit front with cache outcome HIT, from the near copy', async () => {
    const caller = callerTrace();
    const response = await post(QUERY, caller.traceparent);
    expect(response.headers.get('x-cache')).toBe('HIT');
    await response.text();

    const spans = await receiver.trace(caller.traceId);
    const { request, childrenOf } = treeOf(spans);
    expect(request.attributes).toMatchObject({ 'gateway.cache': 'HIT', 'gateway.answered_by': 'hit-front', 'http.response.status_code': 200 });
    expect(childrenOf(request)).toEqual([expect.objectContaining({ name: 'query', attributes: { 'graphql.operation.type': 'query', 'gateway.cache': 'HIT', 'gateway.response_cache.tier': 'near' } })]);
  });

  it('keeps the trace of a POST whose body Fastify reads itself, arriving later (over the hit front’s 64 KiB): the operation and its SQL hang under the request', async () => {
    const caller = callerTrace();
    const body = Buffer.from(JSON.stringify({ query: '{ signals(symbol: "GBP_USD", limit: 2) { id user { username } } }', variables: { padding: 'x'.repeat(70 * 1024) } }));
    // The second half comes after a pause, so that Fastify reads it from the connection's events, later.
    const answer = await new Promise<{ status: number; cache: string | undefined }>((resolve, reject) => {
      const sent = httpRequest(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, traceparent: caller.traceparent } }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, cache: response.headers['x-cache'] as string | undefined }));
      });
      sent.on('error', reject);
      sent.write(body.subarray(0, 1024));
      setTimeout(() => sent.end(body.subarray(1024)), 100);
    });
    expect(answer).toEqual({ status: 200, cache: 'MISS' });

    const { request, childrenOf, descendantsOf } = treeOf(await receiver.trace(caller.traceId));
    expect(request.attributes).toMatchObject({ 'gateway.cache': 'MISS', 'gateway.answered_by': 'fastify' });
    const operation = childrenOf(request).find((span) => span.attributes['graphql.operation.type'] === 'query');
    expect(operation?.attributes['gateway.cache']).toBe('MISS');
    expect(descendantsOf(operation!).map((span) => span.name)).toEqual(expect.arrayContaining(['response-cache.read', 'SELECT trading_signals', 'response-cache.write']));
  });

  it('starts a trace of its own for a request without traceparent (parentbased_always_on: sampled)', async () => {
    const roots = () => receiver.spans.filter((span) => span.kind === SERVER && span.parentSpanId === undefined);
    const before = roots().length;
    const response = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
    expect(response.headers.get('x-cache')).toBe('HIT');
    await response.text();
    await eventually(() => roots().length > before, 10_000, 'a root request span');
    expect(roots().at(-1)?.attributes).toMatchObject({ 'gateway.cache': 'HIT', 'gateway.answered_by': 'hit-front' });
  });

  it('exports nothing for a request whose caller did not sample it, and still answers it', async () => {
    const caller = callerTrace(false);
    const response = await post(QUERY, caller.traceparent);
    expect(response.status).toBe(200);
    await response.text();
    const sampled = callerTrace();
    await (await post(QUERY, sampled.traceparent)).text();
    await receiver.trace(sampled.traceId);
    expect(receiver.spans.filter((span) => span.traceId === caller.traceId)).toEqual([]);
  });

  it('while Redis is down: the response cache reads from the memory tier, and the span says so', async () => {
    await redis.kill();
    await eventually(() => gw.gateway.cache.service.healthReport().fallback_enabled, 10_000, 'the switch to the memory tier');
    const caller = callerTrace();
    const response = await post('{ signals(symbol: "USD_JPY", limit: 2) { id } }', caller.traceparent);
    expect(response.status).toBe(200);
    await response.text();

    const spans = await receiver.trace(caller.traceId);
    const { request, descendantsOf } = treeOf(spans);
    const work = descendantsOf(request);
    const read = work.find((span) => span.name === 'response-cache.read');
    expect(read?.attributes['gateway.cache']).toBe('MISS');
    const tierReads = work.filter((span) => span.parentSpanId === read?.spanId);
    expect(tierReads.map((span) => [span.name, span.attributes['cache.tier']])).toEqual([['cache.mget', 'memory']]);
    expect(work.filter((span) => span.name.startsWith('cache.')).every((span) => span.attributes['cache.tier'] !== 'redis')).toBe(true);
    expect(work.some((span) => span.name === 'SELECT trading_signals')).toBe(true);
  });

  it('warns at start-up on a Node.js whose async context costs every request (before 24), and only there', () => {
    const warned = logs.some((line) => line.level === 40 && String(line.msg).startsWith('tracing on a Node.js before 24'));
    expect(warned).toBe(Number(process.versions.node.split('.')[0]) < 24);
  });

  it('gives a masked error the trace id, which is also on its log line (last: it closes the database)', async () => {
    await gw.gateway.db.close();
    const caller = callerTrace();
    const response = await post('{ user(id: 987) { id username } }', caller.traceparent);
    const body = (await response.json()) as { errors?: { extensions?: Record<string, unknown> }[] };
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String), traceId: caller.traceId });
    expect(logs.some((line) => line.level === 50 && line.trace_id === caller.traceId && typeof line.span_id === 'string')).toBe(true);
    const { request } = treeOf(await receiver.trace(caller.traceId));
    expect(request.parentSpanId).toBe(caller.parentId);
  });
});

describe('OpenTelemetry tracing with OTEL_EXPORTER_OTLP_PROTOCOL=http/json', () => {
  const receiver = new OtlpReceiver();
  let gw: TestGateway;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    gw = await startTestGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await receiver.close();
  });

  it('exports the same spans in OTLP’s JSON encoding', async () => {
    const caller = callerTrace();
    const response = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: caller.traceparent }, body: JSON.stringify({ query: QUERY }) });
    expect(response.status).toBe(200);
    await response.text();
    const { request, childrenOf } = treeOf(await receiver.trace(caller.traceId));
    expect(request).toMatchObject({ name: 'POST /graphql', parentSpanId: caller.parentId, attributes: { 'http.response.status_code': 200, 'gateway.cache': 'MISS' } });
    expect(childrenOf(request).map((span) => span.attributes['graphql.operation.type'])).toEqual(['query']);
    expect([...receiver.contentTypes]).toEqual(['application/json']);
  });
});
