import { ApolloServer, HeaderMap } from '@apollo/server';
import { Redis } from 'ioredis';

import { TEST_ADMIN_TOKEN, startTestGateway, type TestGateway, ALICE, BOB } from '../helpers/test-gateway';

interface Sent {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

describe('the response cache, over HTTP', () => {
  let gw: TestGateway;
  let redis: Redis;

  beforeAll(async () => {
    gw = await startTestGateway();
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    await gw.gateway.cache.invalidator.invalidateAllCache();
    redis.disconnect();
    await gw.close();
  });

  const post = async (query: string, token?: string, variables?: Record<string, unknown>): Promise<Sent> => {
    const response = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  /** The `data` of a response, typed by the caller. */
  const dataOf = <T>(sent: Sent): T => (JSON.parse(sent.text) as { data: T }).data;
  const executions = () => gw.gateway.responseCache!.metrics().executions;

  it('serves a repeated query from the stored bytes, with Cache-Control, Age, ETag and a hit marker', async () => {
    const query = '{ signals(symbol: "USD_CAD", limit: 5) { id symbol user { username } currentPrice { bid ask } } }';
    const first = await post(query);
    const before = executions();
    const calls = gw.dataSourceCalls();
    const second = await post(query);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(executions()).toBe(before);
    expect(gw.dataSourceCalls()).toBe(calls);
    // Price (60 s) is the smallest hint in this response.
    expect(second.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=60');
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('takes the TTL from the smallest hint', async () => {
    expect((await post('{ user(id: 61) { id username } }')).headers.get('cache-control')).toBe('public, max-age=0, s-maxage=3600');
    expect((await post('{ user(id: 61) { id statistics { totalSignals } } }')).headers.get('cache-control')).toBe('public, max-age=0, s-maxage=600');
  });

  it('answers a GET with a matching If-None-Match with 304 and no body', async () => {
    const url = `${gw.url}/graphql?query=${encodeURIComponent('{ user(id: 62) { username } }')}`;
    const headers = { 'apollo-require-preflight': 'true' };
    const first = await fetch(url, { headers });
    const etag = first.headers.get('etag')!;
    await first.text();
    const revalidated = await fetch(url, { headers: { ...headers, 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
  });

  it.each([
    ['the weak form of its ETag (a compressing proxy sends it)', (etag: string) => `W/${etag}`, 2],
    ['a list naming its ETag', (etag: string) => `"c29tZXRoaW5nIGVsc2U", ${etag}`, 3],
    ['a list naming its weak form, with a comma inside another tag', (etag: string) => `"a,b",W/${etag}`, 4],
    ['*', () => '*', 5],
  ])('answers a GET whose If-None-Match is %s with 304, from the hit front and from the route', async (_name, ifNoneMatch, spelling) => {
    const spelled = (spaces: number) => `${gw.url}/graphql?query=${encodeURIComponent(`{ user(id: 68) {${' '.repeat(spaces)}username } }`)}`;
    const headers = { 'apollo-require-preflight': 'true' };
    const first = await fetch(spelled(1), { headers });
    const etag = first.headers.get('etag')!;
    await first.text();
    // A URL seen before is answered by the hit front; a new spelling of the same query by the route.
    const again = await fetch(spelled(1), { headers: { ...headers, 'if-none-match': ifNoneMatch(etag) } });
    const respelled = await fetch(spelled(spelling), { headers: { ...headers, 'if-none-match': ifNoneMatch(etag) } });
    expect([again.status, respelled.status]).toEqual([304, 304]);
    expect([again.headers.get('etag'), respelled.headers.get('etag')]).toEqual([etag, etag]);
  });

  it('answers a GET whose If-None-Match names other tags with 200 and the body', async () => {
    const url = `${gw.url}/graphql?query=${encodeURIComponent('{ user(id: 69) { username } }')}`;
    const headers = { 'apollo-require-preflight': 'true' };
    const first = await fetch(url, { headers });
    const etag = first.headers.get('etag')!;
    const body = await first.text();
    for (const ifNoneMatch of ['"other"', 'W/"other", "x"', `${etag.slice(0, -2)}"`, etag.slice(1), `W/${etag.slice(0, -1)}`]) {
      const response = await fetch(url, { headers: { ...headers, 'if-none-match': ifNoneMatch } });
      expect([ifNoneMatch, response.status, await response.text()]).toEqual([ifNoneMatch, 200, body]);
    }
  });

  describe('media types', () => {
    /** Apollo Server itself, on a schema of its own: what it answers to an Accept is what the cached answers must say. */
    let apollo: ApolloServer;
    beforeAll(async () => {
      apollo = new ApolloServer({ typeDefs: 'type Query { a: Int }' });
      await apollo.start();
    });
    afterAll(() => apollo.stop());
    const apolloAnswers = async (accept: string | undefined) => {
      const headers = new HeaderMap([['content-type', 'application/json']]);
      if (accept !== undefined) headers.set('accept', accept);
      const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method: 'POST', headers, search: '', body: { query: '{ a }' } }, context: () => Promise.resolve({}) });
      return { status: response.status ?? 200, type: response.headers.get('content-type') };
    };

    it.each([
      [undefined],
      [''],
      ['application/json'],
      ['application/graphql-response+json'],
      ['application/graphql-response+json,application/json;q=0.9'],
      ['application/json;q=0.5, application/graphql-response+json'],
      ['application/graphql-response+json;q=0.4, application/json'],
      ['application/graphql-response+json; charset=utf-8'],
      ['application/json; callbackSpec=1.0'],
      ['*/*'],
      ['application/*;q=0.9, application/graphql-response+json'],
      ['application/xml, */*;q=0.1'],
      ['application/json;q=0, application/graphql-response+json'],
      ['text/plain'],
    ])('answers Accept: %p with the media type Apollo chooses, whether the answer is cached or not', async (accept) => {
      const expected = await apolloAnswers(accept);
      const query = '{ user(id: 70) { id username } }';
      const headers: Record<string, string> = { 'apollo-require-preflight': 'true', ...(accept === undefined ? {} : { accept }) };
      const sent: { cache: string | null; status: number; type: string | null }[] = [];
      // The first POST and GET are the route's, their repeats the hit front's; some are near hits, some not.
      for (let i = 0; i < 2; i += 1) {
        for (const response of [
          await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query }) }),
          await fetch(`${gw.url}/graphql?query=${encodeURIComponent(query)}`, { headers }),
        ]) {
          await response.text();
          sent.push({ cache: response.headers.get('x-cache'), status: response.status, type: response.headers.get('content-type') });
        }
      }
      expect(sent.map(({ status, type }) => ({ status, type }))).toEqual(sent.map(() => expected));
      if (expected.status === 200) expect(sent.every(({ cache }) => cache?.startsWith('HIT') === true || cache === 'MISS')).toBe(true);
    });

    it('gives each media type its own ETag, so that a validator of one never revalidates the other', async () => {
      const url = `${gw.url}/graphql?query=${encodeURIComponent('{ user(id: 71) { id username } }')}`;
      const as = (accept: string, ifNoneMatch?: string) =>
        fetch(url, { headers: { 'apollo-require-preflight': 'true', accept, ...(ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch }) } });
      const json = await as('application/json');
      const graphqlJson = await as('application/graphql-response+json');
      const [jsonTag, graphqlTag] = [json.headers.get('etag')!, graphqlJson.headers.get('etag')!];
      expect(await graphqlJson.text()).toBe(await json.text());
      expect(graphqlTag).not.toBe(jsonTag);
      expect(graphqlJson.headers.get('vary')).toMatch(/accept/i);
      // A cache holding the JSON copy revalidates it for a client that prefers graphql-response+json: a full answer, as that type.
      const crossed = await as('application/graphql-response+json', jsonTag);
      expect([crossed.status, crossed.headers.get('content-type'), crossed.headers.get('etag')]).toEqual([200, 'application/graphql-response+json; charset=utf-8', graphqlTag]);
      expect((await as('application/json', graphqlTag)).status).toBe(200);
      // Each tag still revalidates its own copy (hit front and route: the second of each is the hit front's).
      for (let i = 0; i < 2; i += 1) {
        expect((await as('application/graphql-response+json', `W/${graphqlTag}`)).status).toBe(304);
        expect((await as('application/json', jsonTag)).status).toBe(304);
      }
    });
  });

  it('keys a variable named $__proto__ by its value like any other', async () => {
    const query = 'query Q($__proto__: Int!) { user(id: $__proto__) { id username } }';
    const get = async (variables: string) => {
      const response = await fetch(`${gw.url}/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(variables)}`, { headers: { 'apollo-require-preflight': 'true' } });
      return { cache: response.headers.get('x-cache'), body: (await response.json()) as { data: unknown } };
    };
    expect(await get('{"__proto__":1}')).toEqual({ cache: 'MISS', body: { data: { user: { id: 1, username: 'alice' } } } });
    expect(await get('{"__proto__":2}')).toEqual({ cache: 'MISS', body: { data: { user: { id: 2, username: 'bob' } } } });
    // A POST body with a `__proto__` member never gets this far: Fastify's JSON parser refuses it (400).
    const posted = await post(query, undefined, JSON.parse('{"__proto__":1}') as Record<string, unknown>);
    expect(posted.status).toBe(400);
  });

  it('still applies CSRF prevention to a cached query sent as a simple GET', async () => {
    await post('{ user(id: 63) { username } }');
    const response = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ user(id: 63) { username } }')}`);
    expect(response.status).toBe(400);
  });

  it.each([
    ['a mutation', 'mutation { updateUser(id: 64, input: { displayName: "M" }) { id } }', TEST_ADMIN_TOKEN],
    ['a response with errors', '{ candles(symbol: "ABC_XYZ", timeframe: H1) { open } }', undefined],
    ['introspection', '{ __schema { queryType { name } } }', undefined],
    ['a query without cache hints', '{ cacheHealth { status } }', undefined],
  ])('never caches %s', async (_label, query, token) => {
    const first = await post(query, token);
    const before = executions();
    const second = await post(query, token);
    expect(first.headers.get('x-cache')).toBe('BYPASS');
    expect(second.headers.get('x-cache')).toBe('BYPASS');
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(executions()).toBe(before + 1);
  });

  describe('private data', () => {
    it("never serves one user's private response to another user or to anonymous callers", async () => {
      const query = '{ user(id: 1) { id email } }';
      const alice = await post(query, ALICE);
      expect(alice.headers.get('cache-control')).toMatch(/^private/);
      expect(JSON.parse(alice.text)).toEqual({ data: { user: { id: 1, email: 'alice@example.com' } } });
      expect((await post(query, ALICE)).headers.get('x-cache')).toBe('HIT');
      for (const token of [BOB, undefined]) {
        const other = await post(query, token);
        expect(JSON.parse(other.text)).toEqual({ data: { user: { id: 1, email: null } } });
      }
      expect(JSON.parse((await post(query, BOB)).text)).toEqual({ data: { user: { id: 1, email: null } } });
    });

    it('keeps `me` per user', async () => {
      const me = '{ me { id username } }';
      expect(dataOf<{ me: { username: string } | null }>(await post(me, ALICE)).me?.username).toBe('alice');
      expect(dataOf<{ me: { username: string } | null }>(await post(me, BOB)).me?.username).toBe('bob');
      expect(dataOf<{ me: { username: string } | null }>(await post(me, ALICE)).me?.username).toBe('alice');
      expect(dataOf<{ me: { username: string } | null }>(await post(me)).me).toBeNull();
    });

    it('is not poisoned by variables the operation does not declare', async () => {
      const query = 'query One($id: Int!) { user(id: $id) { username } }';
      const honest = await post(query, undefined, { id: 65 });
      const padded = await post(query, undefined, { id: 65, poison: 'x'.repeat(100) });
      expect(JSON.parse(padded.text)).toEqual(JSON.parse(honest.text));
    });
  });

  describe('entity invalidation', () => {
    it('evicts responses showing a user when that user changes', async () => {
      const query = '{ signals(limit: 3) { id user { id displayName } } user(id: 66) { displayName } }';
      await post(query);
      expect((await post(query)).headers.get('x-cache')).toBe('HIT');
      await post('mutation { updateUser(id: 66, input: { displayName: "Sixty-Six" }) { id } }', TEST_ADMIN_TOKEN);
      const after = await post(query);
      expect(after.headers.get('x-cache')).toBe('MISS');
      expect(dataOf<{ user: { displayName: string } }>(after).user.displayName).toBe('Sixty-Six');
    });

    it("evicts an instrument's lists and statistics when a signal is created, and the author's", async () => {
      const lists = '{ signals(symbol: "EUR_GBP", limit: 1) { id } signalStatistics(symbol: "EUR_GBP") { totalSignals } }';
      const author = '{ user(id: 2) { statistics { totalSignals } } }';
      const other = '{ signals(symbol: "EUR_JPY", limit: 1) { id } }';
      await Promise.all([post(lists), post(author), post(other)]);
      const created = await post('mutation { createSignal(input: { symbol: "EUR_GBP", timeframe: D1, direction: BUY, entryPrice: 0.85, confidence: 0.6 }) { id } }', BOB);
      const id = dataOf<{ createSignal: { id: number } }>(created).createSignal.id;
      const afterLists = await post(lists);
      expect(afterLists.headers.get('x-cache')).toBe('MISS');
      expect(dataOf<{ signals: { id: number }[] }>(afterLists).signals[0]!.id).toBe(id);
      expect((await post(author)).headers.get('x-cache')).toBe('MISS');
      expect((await post(other)).headers.get('x-cache')).toBe('HIT');
    });

    it('evicts a signal shown anywhere when its status changes', async () => {
      const created = await post('mutation { createSignal(input: { symbol: "USD_CHF", timeframe: M1, direction: SELL, entryPrice: 0.88, confidence: 0.5 }) { id } }', ALICE);
      const id = dataOf<{ createSignal: { id: number } }>(created).createSignal.id;
      const query = `{ signal(id: ${id}) { status } }`;
      await post(query);
      expect((await post(query)).headers.get('x-cache')).toBe('HIT');
      await post(`mutation { updateSignalStatus(id: ${id}, status: CANCELLED) { id } }`, ALICE);
      expect(JSON.parse((await post(query)).text)).toEqual({ data: { signal: { status: 'CANCELLED' } } });
    });

    it('evicts market responses on an admin invalidation, by GraphQL or REST', async () => {
      const price = '{ price(symbol: "EUR_USD") { bid } }';
      await post(price);
      expect((await post(price)).headers.get('x-cache')).toBe('HIT');
      await post('mutation { invalidateCache(input: { scope: MARKET, symbol: "EUR_USD" }) { removed } }', TEST_ADMIN_TOKEN);
      expect((await post(price)).headers.get('x-cache')).toBe('MISS');
      await fetch(`${gw.url}/cache/invalidate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify({ scope: 'market' }),
      });
      expect((await post(price)).headers.get('x-cache')).toBe('MISS');
    });

    it('keeps its tag bookkeeping in expiring Redis sets', async () => {
      await post('{ user(id: 67) { username } }');
      const tagSet = gw.gateway.cache.keys.tagSet('User:67');
      expect(await redis.zcard(tagSet)).toBeGreaterThan(0);
      expect(await redis.ttl(tagSet)).toBeGreaterThan(3000);
    });
  });

  it('executes a burst of 500 identical cold requests once', async () => {
    const query = '{ latestSignals(symbols: ["NZD_USD", "AUD_USD"], perSymbol: 10) { id user { username } currentPrice { bid } } }';
    const before = executions();
    const calls = gw.dataSourceCalls();
    const responses = await Promise.all(Array.from({ length: 500 }, () => post(query)));
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(executions() - before).toBe(1);
    expect(gw.dataSourceCalls() - calls).toBeLessThanOrEqual(3);
    const rest = (await (await fetch(`${gw.url}/cache/metrics`)).json()) as { response_cache: { coalesced: number } };
    expect(rest.response_cache.coalesced).toBeGreaterThan(0);
  });
});
