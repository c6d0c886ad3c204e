import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import pino from 'pino';

import { specifiedRules } from 'graphql';

import { createGateway } from '../../src/app';
import { loadConfig } from '../../src/config';
import { loadManifests } from '../../src/graphql/persisted/manifests';
import { documentCheck } from '../../src/graphql/persisted/document-check';
import { createLogger } from '../../src/logger';
import { buildTypesOnlySchema } from '../../src/schema';
import { ALICE, BOB, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/** The manifest codegen writes beside the typed client (`npm run codegen`). */
const MANIFEST = join(__dirname, '..', '..', 'src', 'generated', 'persisted-documents.json');
const listed = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
const idOf = (text: string) => createHash('sha256').update(text).digest('hex');
const listedId = (operationName: string): string => {
  const found = Object.entries(listed).find(([, text]) => new RegExp(`(query|mutation) ${operationName}\\b`).test(text));
  if (found === undefined) throw new Error(`no listed document for ${operationName}`);
  return found[0];
};

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** A GET as Apollo Client's persisted-queries link sends it with useGETForHashedQueries. */
async function getById(gw: TestGateway, id: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const search = new URLSearchParams({ variables: JSON.stringify(variables), extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: id } }) });
  return send(gw, `?${search.toString()}`, { method: 'GET', headers: { 'content-type': 'application/json', ...headers } });
}

async function post(gw: TestGateway, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  return send(gw, '', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function send(gw: TestGateway, search: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(`${gw.url}/graphql${search}`, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
}

const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.code;

describe('persisted documents, as front ends send them', () => {
  const prefix = `test_${randomBytes(4).toString('hex')}`;
  let gw: TestGateway;
  let second: TestGateway;
  let redis: Redis;

  beforeAll(async () => {
    const env = { PERSISTED_DOCUMENTS: MANIFEST, CACHE_KEY_PREFIX: prefix };
    [gw, second] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
    redis = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    redis.disconnect();
    await Promise.all([gw?.close(), second?.close()]);
  });

  describe('a document from the manifest', () => {
    it('runs by its id on GET, and the second identical GET is a hit with the headers a CDN needs', async () => {
      const id = listedId('Price');
      const first = await getById(gw, id, { symbol: 'EUR_USD' });
      const again = await getById(gw, id, { symbol: 'EUR_USD' });
      expect(first.status).toBe(200);
      expect(first.body.data?.price).toMatchObject({ symbol: 'EUR_USD' });
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(again.headers.get('x-cache')).toBe('HIT');
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('cache-control')).toMatch(/^public, max-age=0, s-maxage=\d+/);
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
    });

    it("runs by GraphQL-over-HTTP's documentId, bare or sha256:-prefixed, on GET and POST, sharing the cache entry of the same text sent as a query", async () => {
      const id = listedId('SignalStatistics');
      const variables = { symbol: 'GBP_USD' };
      const asText = await post(gw, { query: listed[id], variables });
      expect(asText.headers.get('x-cache')).toBe('MISS');
      const byGet = await send(gw, `?documentId=sha256:${id}&variables=${encodeURIComponent(JSON.stringify(variables))}`, { headers: { 'content-type': 'application/json' } });
      const byPost = await post(gw, { documentId: id, variables });
      for (const answer of [byGet, byPost]) {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('x-cache')).toBe('HIT');
        expect(answer.body).toEqual(asText.body);
      }
    });

    it('is answered from memory on a hit: no document is read, even when the shared tier no longer has any', async () => {
      const id = listedId('Candles');
      const variables = { symbol: 'USD_JPY', timeframe: 'H1', count: 3 };
      await getById(gw, id, variables);
      await redis.del(`${prefix}~apq:${id}`);
      expect((await getById(gw, id, variables)).headers.get('x-cache')).toBe('HIT');
    });

    it('checks what depends on headers on every repeat of a hashed GET: the viewer, CSRF, the content type; and counts each', async () => {
      const id = listedId('Me');
      const alice = await getById(gw, id, {}, { authorization: `Bearer ${ALICE}` });
      const bob = await getById(gw, id, {}, { authorization: `Bearer ${BOB}` });
      expect((alice.body.data?.me as { username: string }).username).toBe('alice');
      expect((bob.body.data?.me as { username: string }).username).toBe('bob');
      expect(((await getById(gw, id, {}, { authorization: `Bearer ${ALICE}` })).body.data?.me as { username: string }).username).toBe('alice');
      const search = new URLSearchParams({ variables: '{}', extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: id } }) });
      expect((await fetch(`${gw.url}/graphql?${search.toString()}`, { headers: { authorization: `Bearer ${ALICE}` } })).status).toBe(400);
      expect((await fetch(`${gw.url}/graphql?${search.toString()}`, { headers: { 'content-type': 'text/plain', 'apollo-require-preflight': 'true' } })).status).toBe(415);
      const listedBefore = Number(/outcome="listed"\} (\d+)/.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1]);
      await getById(gw, id, {}, { authorization: `Bearer ${BOB}` });
      expect(Number(/outcome="listed"\} (\d+)/.exec(await (await fetch(`${gw.url}/metrics`)).text())?.[1])).toBe(listedBefore + 1);
    });

    it('refuses a mutation over GET with 405 and Allow: POST, and runs nothing', async () => {
      const calls = gw.dataSourceCalls();
      const answer = await getById(gw, listedId('UpdateSignalStatus'), { id: 1, status: 'EXECUTED' }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` });
      expect(answer.status).toBe(405);
      expect(answer.headers.get('allow')).toBe('POST');
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(gw.dataSourceCalls()).toBe(calls);
    });
  });

  describe('automatic persisted queries (APQ)', () => {
    const unlisted = () => `query Registered${randomBytes(3).toString('hex')} { price(symbol: "AUD_USD") { symbol bid } }`;

    it('answers an unknown id with PERSISTED_QUERY_NOT_FOUND that no cache may keep; the text with its id registers it for every instance', async () => {
      const text = unlisted();
      const id = idOf(text);
      const unknown = await getById(gw, id, {});
      expect(unknown.status).toBe(200);
      expect(codeOf(unknown)).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(unknown.headers.get('cache-control')).toBe('private, no-cache, must-revalidate');

      const registered = await post(gw, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
      expect(registered.body.data?.price).toMatchObject({ symbol: 'AUD_USD' });

      const onSecond = await getById(second, id, {});
      expect(onSecond.status).toBe(200);
      expect(onSecond.body.data).toEqual(registered.body.data);
      expect(['HIT-SHARED', 'HIT']).toContain(onSecond.headers.get('x-cache'));
    });

    it('registers only a text that parses and validates, as Apollo does: the others are reported and stored nowhere', async () => {
      for (const text of [`query Broken${randomBytes(3).toString('hex')} { price(symbol: "AUD_USD") { symbol `, `query Unknown${randomBytes(3).toString('hex')} { price(symbol: "AUD_USD") { noSuchField } }`]) {
        const id = idOf(text);
        const answer = await post(gw, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
        expect(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED']).toContain(codeOf(answer));
        expect(await gw.gateway.cache.service.get(gw.gateway.cache.keys.persistedDocument(id))).toBeUndefined();
        expect(codeOf(await getById(second, id, {}))).toBe('PERSISTED_QUERY_NOT_FOUND');
        expect(codeOf(await getById(gw, id, {}))).toBe('PERSISTED_QUERY_NOT_FOUND');
      }
    });

    it('keeps registered documents when all cached data is invalidated', async () => {
      const text = unlisted();
      const id = idOf(text);
      await post(gw, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
      await gw.gateway.cache.invalidator.invalidateAllCache();
      expect((await getById(second, id, {})).body.data?.price).toMatchObject({ symbol: 'AUD_USD' });
    });

    it('counts each outcome in /metrics', async () => {
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      for (const outcome of ['listed', 'registered', 'not_found', 'text']) {
        expect(metrics).toMatch(new RegExp(`gateway_persisted_documents_total\\{outcome="${outcome}"\\} [1-9]`));
      }
    });
  });
});

describe('PERSISTED_DOCUMENTS_MODE=require', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_MODE: 'require' });
  }, 60_000);

  afterAll(() => gw.close());

  it('runs listed ids', async () => {
    expect((await getById(gw, listedId('Price'), { symbol: 'EUR_USD' })).body.data?.price).toMatchObject({ symbol: 'EUR_USD' });
  });

  it('refuses free text with 400 PERSISTED_QUERY_ID_REQUIRED, and an unlisted id with 404 PERSISTED_QUERY_NOT_IN_LIST, running nothing', async () => {
    const calls = gw.dataSourceCalls();
    const text = await post(gw, { query: '{ user(id: 1) { id } }' });
    expect([text.status, codeOf(text)]).toEqual([400, 'PERSISTED_QUERY_ID_REQUIRED']);
    const unknownId = await getById(gw, idOf('{ user(id: 1) { id } }'), {});
    expect([unknownId.status, codeOf(unknownId)]).toEqual([404, 'PERSISTED_QUERY_NOT_IN_LIST']);
    expect(unknownId.headers.get('cache-control')).toBe('private, no-store');
    expect(gw.dataSourceCalls()).toBe(calls);
  });

  it('registers nothing: a text sent with its id is refused unless it is listed', async () => {
    const text = '{ user(id: 2) { id username } }';
    const registration = await post(gw, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(text) } } });
    expect([registration.status, codeOf(registration)]).toEqual([404, 'PERSISTED_QUERY_NOT_IN_LIST']);
    expect(codeOf(await getById(gw, idOf(text), {}))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    const listedText = listed[listedId('Price')]!;
    expect((await post(gw, { query: listedText, variables: { symbol: 'EUR_USD' }, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(listedText) } } })).status).toBe(200);
  });

  it('lets the admin token, and the playground outside production, keep free text', async () => {
    const query = '{ user(id: 1) { id username } }';
    expect((await post(gw, { query }, { authorization: `Bearer ${TEST_ADMIN_TOKEN}` })).body.data?.user).toEqual({ id: 1, username: 'alice' });
    expect((await post(gw, { query }, { 'x-graphql-playground': '1' })).body.data?.user).toEqual({ id: 1, username: 'alice' });
    expect(codeOf(await post(gw, { query }, { authorization: `Bearer ${ALICE}` }))).toBe('PERSISTED_QUERY_ID_REQUIRED');
  });
});

describe('PERSISTED_DOCUMENTS_MODE=log-unknown', () => {
  it('serves free text, and logs each distinct unlisted document once, with its id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const gw = await startTestGateway({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_MODE: 'log-unknown' }, { logger });
    try {
      const query = `{ user(id: 3) { id } } # ${randomBytes(3).toString('hex')}`;
      for (let i = 0; i < 3; i += 1) expect((await post(gw, { query })).body.data?.user).toEqual({ id: 3 });
      expect((await getById(gw, listedId('Price'), { symbol: 'EUR_USD' })).status).toBe(200);
      const logged = lines.filter((line) => line.includes('missing from the manifests'));
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain(idOf(query));
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      expect(metrics).toContain('gateway_persisted_documents_total{outcome="text_unlisted"} 3');
    } finally {
      await gw.close();
    }
  }, 60_000);
});

describe('manifests at start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  const write = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  const start = (paths: string[]) =>
    createGateway(
      // No demo data: these gateways only start (or refuse to).
      loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', SEED_DEMO_DATA: 'false', CACHE_WARMING_ENABLED: 'false', CACHE_KEY_PREFIX: `test_${randomBytes(4).toString('hex')}`, PERSISTED_DOCUMENTS: paths.join(',') }),
      createLogger(loadConfig({ LOG_LEVEL: 'silent' })),
    );

  it("reads Apollo's manifest format beside codegen's", async () => {
    const text = 'query Apollo { me { id } }';
    const apollo = write('apollo.json', { format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: idOf(text), body: text, name: 'Apollo', type: 'query' }] });
    const documents = loadManifests([MANIFEST, apollo], documentCheck(await buildTypesOnlySchema(), specifiedRules));
    expect(documents.get(idOf(text))).toBe(text);
    expect(documents.size).toBe(Object.keys(listed).length + 1);
  });

  it('refuses to start on a document that does not validate, naming its id and the error', async () => {
    const text = 'query Broken { user(id: 1) { nope } }';
    await expect(start([write('broken.json', { [idOf(text)]: text })])).rejects.toThrow(new RegExp(`persisted document ${idOf(text)} .*Cannot query field "nope"`));
  }, 60_000);

  it('refuses to start on an id that is not its text\'s SHA-256 (which also rules out one id for two texts)', async () => {
    const text = '{ me { id } }';
    const other = idOf('{ me { username } }');
    await expect(start([write('colliding.json', { [other]: text })])).rejects.toThrow(`persisted document ${other} in ${join(dir, 'colliding.json')}: the id is not the SHA-256 of its text`);
  }, 60_000);

  it('refuses to start on a document over the query limits', async () => {
    const text = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    await expect(start([write('aliases.json', { [idOf(text)]: text })])).rejects.toThrow(/Too many aliases/);
  }, 60_000);
});
