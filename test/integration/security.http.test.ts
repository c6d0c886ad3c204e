import { createHash } from 'node:crypto';
import { connect } from 'node:net';

import pino from 'pino';

import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

const APP_ORIGIN = 'https://app.example.com';
const REQUEST_TIMEOUT_MS = 1_500;
const HEADERS_TIMEOUT_MS = 1_000;
/** Node checks its deadlines every quarter of the headers timeout here; a loaded CI machine adds some. */
const SLACK_MS = 1_500;

interface Sent {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** Attacks at the HTTP layer, in front of GraphQL (neighbour of security.test.ts). */
describe('attacks on the gateway over HTTP', () => {
  /** Response cache with near copies, CORS, and short request deadlines. */
  let gw: TestGateway;
  /** Response cache without near copies: every repeat is a HIT-SHARED. */
  let sharedOnly: TestGateway;
  /** No response cache: Apollo answers everything, the reference for what it accepts. */
  let apolloOnly: TestGateway;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
    const cors = { CORS_ORIGINS: APP_ORIGIN };
    [gw, sharedOnly, apolloOnly] = await Promise.all([
      startTestGateway({ ...cors, HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) }, { logger }),
      startTestGateway({ ...cors, RESPONSE_CACHE_NEAR_ENABLED: 'false' }, { logger }),
      startTestGateway({ ...cors, RESPONSE_CACHE_ENABLED: 'false' }, { logger }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([gw?.close(), sharedOnly?.close(), apolloOnly?.close()]);
  });

  const sent = async (response: Response): Promise<Sent> => ({ status: response.status, headers: response.headers, text: await response.text() });
  const post = async (target: TestGateway, body: unknown, headers: Record<string, string> = {}) =>
    sent(await fetch(`${target.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }));
  /** `search` as given (not re-encoded), so that a test controls every byte of it. */
  const get = async (target: TestGateway, search: string, headers: Record<string, string> = { 'apollo-require-preflight': 'true' }, method = 'GET') =>
    sent(await fetch(`${target.url}/graphql?${search}`, { method, headers }));
  const varyOf = (response: Sent) => (response.headers.get('vary') ?? '').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  const errorLogs = () => logs.filter((line) => typeof line.level === 'number' && line.level >= 50);

  describe('slow clients', () => {
    const endpoint = () => new URL(gw.url);

    /** Opens a raw socket, writes `opening`, then `drip` every `everyMs` until the server closes it (or `giveUpMs` passes). */
    function slowClient(opening: string, drip: string | undefined, everyMs: number, giveUpMs = 10_000): Promise<{ closedAfterMs: number; received: string }> {
      return new Promise((resolve) => {
        const { hostname, port } = endpoint();
        const started = Date.now();
        let received = '';
        let timer: NodeJS.Timeout | undefined;
        const socket = connect({ host: hostname, port: Number(port) }, () => {
          socket.write(opening);
          if (drip !== undefined) timer = setInterval(() => socket.write(drip), everyMs);
        });
        const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
        socket.on('data', (chunk) => (received += chunk.toString('latin1')));
        // Writes after the server closed fail (EPIPE, ECONNRESET): that is the point.
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(timer);
          clearTimeout(giveUp);
          resolve({ closedAfterMs: Date.now() - started, received });
        });
      });
    }

    const postHead = (length: number) => `POST /graphql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

    /** Closed within the bound, with a 408 or nothing at all. */
    function expectCutOff(outcome: { closedAfterMs: number; received: string }, boundMs: number) {
      expect(outcome.closedAfterMs).toBeLessThan(boundMs + SLACK_MS);
      if (outcome.received !== '') expect(outcome.received).toMatch(/^HTTP\/1\.1 408 /);
    }

    it('closes connections that drip their body one byte at a time, however many', async () => {
      const outcomes = await Promise.all(Array.from({ length: 50 }, () => slowClient(postHead(10_000), '{', 200)));
      for (const outcome of outcomes) expectCutOff(outcome, REQUEST_TIMEOUT_MS);
      expect(outcomes.some((outcome) => outcome.received.startsWith('HTTP/1.1 408 '))).toBe(true);
    });

    it('closes connections that send their headers and then nothing', async () => {
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => slowClient(postHead(100), undefined, 0)));
      for (const outcome of outcomes) expectCutOff(outcome, REQUEST_TIMEOUT_MS);
    });

    it('closes connections that never finish their headers', async () => {
      const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => slowClient('POST /graphql HTTP/1.1\r\nHost: localhost\r\n', `x-drip-${i}: 1\r\n`, 200)));
      for (const outcome of outcomes) expectCutOff(outcome, HEADERS_TIMEOUT_MS);
    });

    it('still answers a client that sends at an ordinary pace, even in two parts', async () => {
      const ok = await post(gw, { query: '{ user(id: 1) { id } }' });
      expect(ok.status).toBe(200);
      const { hostname, port } = endpoint();
      const body = JSON.stringify({ query: '{ user(id: 2) { id } }' });
      // Half the body now, the rest well within the deadline: accepted.
      const answer = await new Promise<string>((resolve, reject) => {
        let received = '';
        const socket = connect({ host: hostname, port: Number(port) }, () => {
          socket.write(postHead(Buffer.byteLength(body)) + body.slice(0, 10));
          setTimeout(() => socket.write(body.slice(10)), REQUEST_TIMEOUT_MS / 3);
        });
        socket.on('data', (chunk) => {
          received += chunk.toString();
          if (received.includes('"data"')) {
            socket.destroy();
            resolve(received);
          }
        });
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    });
  });

  describe('CORS on cached answers', () => {
    const query = (id: number) => ({ query: `{ user(id: ${id}) { id username } }` });

    it('keeps Vary: Origin next to Accept on a MISS, a HIT and a 304', async () => {
      const first = await post(gw, query(31), { origin: APP_ORIGIN });
      const second = await post(gw, query(31), { origin: APP_ORIGIN });
      expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
      for (const response of [first, second]) {
        expect(response.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
        expect(response.headers.get('cache-control')).toMatch(/^public, max-age=0, s-maxage=\d+$/);
        expect(varyOf(response)).toEqual(expect.arrayContaining(['origin', 'accept']));
      }
      const etag = second.headers.get('etag')!;
      const notModified = await get(gw, `query=${encodeURIComponent(query(31).query)}`, { 'apollo-require-preflight': 'true', origin: APP_ORIGIN, 'if-none-match': etag });
      expect(notModified.status).toBe(304);
      expect(varyOf(notModified)).toEqual(expect.arrayContaining(['origin', 'accept']));
    });

    it('lets a page of an allowed origin read the cache, request-id and rate-limit headers (MISS, HIT, 304, Apollo, SSE)', async () => {
      const exposed = (response: { headers: Headers }) => (response.headers.get('access-control-expose-headers') ?? '').split(',').map((name) => name.trim().toLowerCase());
      const readable = ['etag', 'age', 'x-cache', 'x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy'];
      const first = await post(gw, query(33), { origin: APP_ORIGIN });
      const second = await post(gw, query(33), { origin: APP_ORIGIN });
      const notModified = await get(gw, `query=${encodeURIComponent(query(33).query)}`, { 'apollo-require-preflight': 'true', origin: APP_ORIGIN, 'if-none-match': second.headers.get('etag')! });
      const refused = await post(gw, { query: '{ nope }' }, { origin: APP_ORIGIN });
      expect([first.headers.get('x-cache'), second.headers.get('x-cache'), notModified.status, refused.status]).toEqual(['MISS', 'HIT', 304, 400]);
      const abort = new AbortController();
      const stream = await fetch(`${gw.url}/graphql/stream?query=${encodeURIComponent('subscription { prices(symbols: ["EUR_USD"]) { symbol } }')}`, { headers: { accept: 'text/event-stream', origin: APP_ORIGIN }, signal: abort.signal });
      abort.abort();
      for (const response of [first, second, notModified, refused, stream]) expect(exposed(response)).toEqual(expect.arrayContaining(readable));
      // Not to other origins.
      expect((await post(gw, query(33), { origin: 'https://evil.example' })).headers.get('access-control-expose-headers')).toBeNull();
    });

    it('keeps Vary: Origin on a HIT-SHARED', async () => {
      const first = await post(sharedOnly, query(32), { origin: APP_ORIGIN });
      const second = await post(sharedOnly, query(32), { origin: APP_ORIGIN });
      expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['MISS', 'HIT-SHARED']);
      expect(second.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(varyOf(second)).toEqual(expect.arrayContaining(['origin', 'accept']));
    });

    it('varies by Origin also when the origin is not allowed or absent (the answer lacks the CORS headers)', async () => {
      for (const headers of [{ origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
        const response = await post(gw, query(31), headers);
        expect(response.headers.get('x-cache')).toBe('HIT');
        expect(response.headers.get('access-control-allow-origin')).toBeNull();
        expect(varyOf(response)).toEqual(expect.arrayContaining(['origin', 'accept']));
      }
    });

    it('keeps Vary: Origin on what Apollo answers and on a private hit', async () => {
      const refused = await post(gw, { query: '{ nope }' }, { origin: APP_ORIGIN });
      expect(refused.status).toBe(400);
      expect(varyOf(refused)).toContain('origin');
      await post(gw, { query: '{ me { id } }' }, { origin: APP_ORIGIN, authorization: 'Bearer demo-alice-session-token' });
      const privateHit = await post(gw, { query: '{ me { id } }' }, { origin: APP_ORIGIN, authorization: 'Bearer demo-alice-session-token' });
      expect(privateHit.headers.get('cache-control')).toMatch(/^private/);
      expect(varyOf(privateHit)).toEqual(expect.arrayContaining(['origin', 'accept', 'authorization']));
    });
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('answers %s on /graphql with 405 naming GET and POST, runs nothing', async (method) => {
    const calls = gw.dataSourceCalls();
    const response = await fetch(`${gw.url}/graphql`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ user(id: 1) { id } }' }) });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ errors: [{ message: expect.stringMatching(/GET .* and POST/), extensions: { code: 'METHOD_NOT_ALLOWED' } }] });
    expect(gw.dataSourceCalls()).toBe(calls);
  });

  describe('deeply nested variables', () => {
    const DEPTH = 5_000;
    const operation = 'query($ids: [Int!]!) { users(ids: $ids) { id } }';
    const nested = `${'['.repeat(DEPTH)}${']'.repeat(DEPTH)}`;

    it.each([
      ['with the response cache', () => gw],
      ['without the response cache', () => apolloOnly],
    ])('refuses them with 400 BAD_USER_INPUT on POST and GET, %s, before anything runs', async (_name, target) => {
      const calls = target().dataSourceCalls();
      const executions = target().gateway.responseCache?.metrics().executions;
      const viaPost = await post(target(), `{"query": ${JSON.stringify(operation)}, "variables": {"ids": ${nested}}}`);
      // The brackets travel unencoded (as a browser sends them), and fewer of them, which keeps the
      // URL within GET_MAX_URL_BYTES (8 KiB; a longer one is 414, see the persisted-documents suite).
      const viaGet = await get(target(), `query=${encodeURIComponent(operation)}&variables={%22ids%22:${nested.slice(DEPTH - 3_000, DEPTH + 3_000)}}`);
      // The rule holds whatever the operation declares: here the variable is not even used.
      const undeclared = await post(target(), `{"query": "{ user(id: 1) { id } }", "variables": {"unused": ${nested}}}`);
      for (const response of [viaPost, viaGet, undeclared]) {
        expect(response.status).toBe(400);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(JSON.parse(response.text)).toEqual({
          errors: [{ message: expect.stringMatching(/nested too deeply/), extensions: { code: 'BAD_USER_INPUT' } }],
        });
      }
      expect(target().dataSourceCalls()).toBe(calls);
      expect(target().gateway.responseCache?.metrics().executions).toBe(executions);
      expect(errorLogs()).toEqual([]);
    });

    it('still accepts ordinary variables', async () => {
      for (const target of [gw, apolloOnly]) {
        const response = await post(target, { query: operation, variables: { ids: [1, 2] } });
        expect(response.status).toBe(200);
        expect(JSON.parse(response.text)).toEqual({ data: { users: [{ id: 1 }, { id: 2 }] } });
        const nestedInput = await post(target, { query: '{ user(id: 1) { id } }', variables: { unused: { a: { b: [[{ c: 1 }]] } } } });
        expect(nestedInput.status).toBe(200);
      }
    });
  });

  describe('the cached fast path checks requests as Apollo does', () => {
    const text = '{ user(id: 41) { id username } }';
    const sha256 = createHash('sha256').update(text).digest('hex');
    const q = `query=${encodeURIComponent(text)}`;
    const ext = (value: unknown) => `extensions=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`;

    beforeAll(async () => {
      await post(gw, { query: text });
      expect((await post(gw, { query: text })).headers.get('x-cache')).toBe('HIT');
      expect((await get(gw, q)).headers.get('x-cache')).toBe('HIT');
    });

    const refusals: [string, (target: TestGateway) => Promise<Sent>, number][] = [
      ['GET extensions that are not JSON', (t) => get(t, `${q}&${ext('{not json')}`), 400],
      ['GET extensions that are not an object', (t) => get(t, `${q}&${ext([1])}`), 400],
      ['GET extensions given twice', (t) => get(t, `${q}&${ext({})}&${ext({})}`), 400],
      ['GET variables that are null', (t) => get(t, `${q}&variables=null`), 400],
      ['POST extensions as a string', (t) => post(t, { query: text, extensions: '{}' }), 400],
      ['POST extensions as a list', (t) => post(t, { query: text, extensions: [] }), 400],
      ['POST a persisted-query hash of another text', (t) => post(t, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }), 400],
      ['GET a persisted-query hash of another text', (t) => get(t, `${q}&${ext({ persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } })}`), 400],
      ['POST a persisted query of an unknown version', (t) => post(t, { query: text, extensions: { persistedQuery: { version: 2, sha256Hash: sha256 } } }), 400],
      ['GET with an empty apollo-require-preflight (CSRF)', (t) => get(t, q, { 'apollo-require-preflight': '' }), 400],
      ['GET with an empty x-apollo-operation-name (CSRF)', (t) => get(t, q, { 'x-apollo-operation-name': '' }), 400],
      ['GET with no preflight header at all (CSRF)', (t) => get(t, q, {}), 400],
      ['GET with a content type other than JSON', (t) => get(t, q, { 'content-type': 'application/xml' }), 415],
      ['POST that accepts no JSON', (t) => post(t, { query: text }, { accept: 'application/xml' }), 406],
      ['HEAD', (t) => get(t, q, { 'apollo-require-preflight': 'true' }, 'HEAD'), 405],
    ];

    it.each(refusals)('hands %s to Apollo, which refuses it', async (_name, send, status) => {
      const reference = await send(apolloOnly);
      expect(reference.status).toBe(status);
      const cached = await send(gw);
      expect(cached.status).toBe(status);
      expect(cached.headers.get('x-cache')).toBeNull();
      const withoutRequestId = (body: string) => body.replace(/"requestId":"[0-9a-f]+"/g, '"requestId":"…"');
      if (status !== 405) expect(withoutRequestId(cached.text)).toBe(withoutRequestId(reference.text));
    });

    it('still answers from the cache what Apollo accepts: a matching persisted-query hash, a non-empty preflight header, GET with JSON content type', async () => {
      const answers = [
        await post(gw, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: sha256 } } }),
        await get(gw, `${q}&${ext({ persistedQuery: { version: 1, sha256Hash: sha256 } })}`),
        await get(gw, q, { 'x-apollo-operation-name': 'x' }),
        await get(gw, q, { 'content-type': 'application/json' }),
        await post(gw, { query: text, extensions: null, variables: null, operationName: null }),
        await post(gw, { query: text }, { accept: 'application/graphql-response+json, application/json;q=0.9' }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('x-cache')).toBe('HIT');
      }
    });
  });
});
