import type { Gateway } from '../../src/app';
import { ALICE, BOB, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/*
 * The hit front (src/http/hit-front.ts) answers requests it has seen before, from the response
 * cache, before Fastify sees them. Each test counts the requests Fastify saw, so that it knows
 * which of the two answered, and checks that the front's answers say what the route's would and
 * that it leaves alone whatever the route must decide.
 */
describe('the hit front: repeated requests answered before Fastify', () => {
  const ORIGIN = 'https://app.example';
  let started: TestGateway;
  let gateway: Gateway;
  let url: string;
  /** Requests that reached Fastify. */
  let routed = 0;

  const start = (env: Record<string, string> = {}) =>
    startTestGateway(
      { CORS_ORIGINS: ORIGIN, ...env },
      {
        beforeListen: (started) =>
          started.http.addHook('onRequest', (_request, _reply, done) => {
            routed += 1;
            done();
          }),
      },
    );

  beforeAll(async () => {
    started = await start();
    ({ gateway, url } = started);
  }, 60_000);

  afterAll(async () => {
    await gateway.cache.invalidator.invalidateAllCache();
    await started.close();
  });

  interface Answer {
    readonly status: number;
    readonly headers: Headers;
    readonly text: string;
    /** Whether Fastify saw the request (false: the front answered it). */
    readonly routed: boolean;
  }

  const send = async (path: string, init: RequestInit = {}, base = url): Promise<Answer> => {
    const before = routed;
    const response = await fetch(`${base}${path}`, init);
    return { status: response.status, headers: response.headers, text: await response.text(), routed: routed > before };
  };
  const post = (body: string, headers: Record<string, string> = {}, base = url) => send('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }, base);
  const get = (query: string, headers: Record<string, string> = {}) => send(`/graphql?query=${encodeURIComponent(query)}`, { headers: { 'apollo-require-preflight': 'true', ...headers } });
  const bodyOf = (query: string) => JSON.stringify({ query });
  /** Headers that differ between any two answers. */
  const PER_ANSWER = new Set(['age', 'date', 'x-request-id', 'x-cache', 'connection', 'keep-alive']);
  const lasting = (headers: Headers) => [...headers].filter(([name]) => !PER_ANSWER.has(name));

  it('answers a repeated POST and GET from the near copy with the headers the route sends', async () => {
    for (const [label, ask] of [
      ['POST', () => post(bodyOf('{ user(id: 71) { id username } }'))],
      ['GET', () => get('{ user(id: 72) { id username } }')],
    ] as const) {
      const first = await ask();
      const second = await ask();
      const third = await ask();
      expect([label, first.routed, first.headers.get('x-cache')]).toEqual([label, true, 'MISS']);
      expect([label, second.routed, second.headers.get('x-cache')]).toEqual([label, false, 'HIT']);
      expect(second.text).toBe(first.text);
      expect(lasting(second.headers)).toEqual(lasting(first.headers));
      expect(second.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=3600');
      expect(second.headers.get('vary')).toBe('accept, origin');
      expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
      // Request ids of the same kind as Fastify's, one per answer.
      expect(second.headers.get('x-request-id')).toMatch(/^[0-9a-f]{20}$/);
      expect(new Set([first, second, third].map((answer) => answer.headers.get('x-request-id'))).size).toBe(3);
    }
  });

  it('adds CORS headers for an allowed origin only', async () => {
    const body = bodyOf('{ user(id: 73) { id username } }');
    await post(body);
    const allowed = await post(body, { origin: ORIGIN });
    const foreign = await post(body, { origin: 'https://evil.example' });
    expect([allowed.routed, allowed.headers.get('access-control-allow-origin')]).toEqual([false, ORIGIN]);
    expect([foreign.routed, foreign.headers.get('access-control-allow-origin')]).toEqual([false, null]);
  });

  it('answers a GET holding the ETag with 304 and no body; a POST holding it gets the body', async () => {
    const query = '{ user(id: 74) { id username } }';
    const etag = (await get(query)).headers.get('etag')!;
    const revalidated = await get(query, { 'if-none-match': etag });
    expect([revalidated.routed, revalidated.status, revalidated.text]).toEqual([false, 304, '']);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(revalidated.headers.get('content-type')).toBeNull();
    const body = bodyOf(query);
    await post(body);
    const posted = await post(body, { 'if-none-match': etag });
    expect([posted.routed, posted.status, posted.text.length > 0]).toEqual([false, 200, true]);
  });

  it('keeps each viewer to their own private copy, and leaves a refused token to the route', async () => {
    const body = bodyOf('{ me { username } }');
    for (const token of [ALICE, BOB, ALICE, BOB]) await post(body, { authorization: `Bearer ${token}` });
    const alice = await post(body, { authorization: `Bearer ${ALICE}` });
    const bob = await post(body, { authorization: `Bearer ${BOB}` });
    expect([alice.routed, JSON.parse(alice.text)]).toEqual([false, { data: { me: { username: 'alice' } } }]);
    expect([bob.routed, JSON.parse(bob.text)]).toEqual([false, { data: { me: { username: 'bob' } } }]);
    expect(alice.headers.get('cache-control')).toMatch(/^private, /);
    const refused = await post(body, { authorization: 'Bearer not-a-session' });
    expect(refused.routed).toBe(true);
    expect((JSON.parse(refused.text) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('leaves to the route what it must decide: the playground, CSRF, content types, Accept', async () => {
    const query = '{ user(id: 75) { id username } }';
    await get(query);
    expect((await get(query)).routed).toBe(false);
    const browser = await get(query, { accept: 'text/html' });
    expect([browser.routed, browser.headers.get('content-type')]).toEqual([true, expect.stringMatching(/^text\/html/)]);
    const simple = await send(`/graphql?query=${encodeURIComponent(query)}`);
    expect([simple.routed, simple.status]).toEqual([true, 400]);
    const body = bodyOf(query);
    await post(body);
    expect((await post(body)).routed).toBe(false);
    const form = await send('/graphql', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    expect([form.routed, form.status]).toEqual([true, 400]);
    const xml = await post(body, { accept: 'application/xml' });
    expect([xml.routed, xml.status]).toEqual([true, 406]);
  });

  it('hands a POST it read on to the route whole: unknown bodies execute, and so do bodies sent in chunks', async () => {
    const body = bodyOf('{ user(id: 76) { id username } }');
    const first = await post(body);
    expect([first.routed, first.status, JSON.parse(first.text)]).toEqual([true, 200, { data: { user: { id: 76, username: expect.any(String) } } }]);
    // No Content-Length: the front does not read it, and remembers nothing by it.
    const chunked = () =>
      send('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(bodyOf('{ user(id: 77) { id username } }')));
            controller.close();
          },
        }),
        duplex: 'half',
      });
    const [once, twice] = [await chunked(), await chunked()];
    expect([once.status, twice.status, twice.routed, twice.headers.get('x-cache')]).toEqual([200, 200, true, 'HIT']);
  });

  it('answers from the shared tier, and executes a miss itself, storing it', async () => {
    const nearless = await start({ RESPONSE_CACHE_NEAR_ENABLED: 'false' });
    try {
      const body = bodyOf('{ user(id: 78) { id displayName } }');
      const first = await post(body, {}, nearless.url);
      const shared = await post(body, {}, nearless.url);
      expect([first.routed, first.headers.get('x-cache')]).toEqual([true, 'MISS']);
      expect([shared.routed, shared.headers.get('x-cache'), shared.text]).toEqual([false, 'HIT-SHARED', first.text]);
      expect(lasting(shared.headers)).toEqual(lasting(first.headers));
      const executions = nearless.gateway.responseCache!.metrics().executions;
      await nearless.gateway.cache.invalidator.invalidateUserCache(78);
      const missed = await post(body, {}, nearless.url);
      expect([missed.routed, missed.headers.get('x-cache')]).toEqual([false, 'MISS']);
      expect(nearless.gateway.responseCache!.metrics().executions).toBe(executions + 1);
      expect((await post(body, {}, nearless.url)).headers.get('x-cache')).toBe('HIT-SHARED');
    } finally {
      await nearless.close();
    }
  });

  it('runs a repeated mutation every time, answered as the route answers it, and what it wrote is read fresh', async () => {
    const board = bodyOf('{ signals(symbol: "NZD_USD", limit: 3) { id } }');
    await post(board);
    expect((await post(board)).headers.get('x-cache')).toBe('HIT');
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const create = JSON.stringify({
      query: 'mutation { createSignal(input: { userId: 5, symbol: "NZD_USD", timeframe: H1, direction: BUY, entryPrice: 0.61, confidence: 0.7 }) { id } }',
    });
    const idOf = (answer: Answer) => (JSON.parse(answer.text) as { data: { createSignal: { id: number } } }).data.createSignal.id;
    const first = await post(create, admin);
    const again = await post(create, admin);
    expect([first.routed, again.routed]).toEqual([true, false]);
    expect([again.status, again.headers.get('x-cache'), again.headers.get('cache-control')]).toEqual([200, 'BYPASS', 'no-store']);
    expect(idOf(again)).toBeGreaterThan(idOf(first));
    expect(lasting(again.headers).filter(([name]) => name !== 'content-length')).toEqual(lasting(first.headers).filter(([name]) => name !== 'content-length'));
    const after = await post(board);
    const ids = (JSON.parse(after.text) as { data: { signals: { id: number }[] } }).data.signals.map((signal) => signal.id);
    expect([after.routed, after.headers.get('x-cache'), ids.slice(0, 2)]).toEqual([false, 'MISS', [idOf(again), idOf(first)]]);
  });

  it('counts its answers in the HTTP metrics, by route and status', async () => {
    const body = bodyOf('{ user(id: 79) { id username } }');
    await post(body);
    const count = async () => Number(/gateway_http_requests_total\{method="POST",route="\/graphql",status="200"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
    const before = await count();
    for (let i = 0; i < 3; i += 1) expect((await post(body)).routed).toBe(false);
    expect(await count()).toBe(before + 3);
  });
});
