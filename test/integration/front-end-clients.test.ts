import { createHash } from 'node:crypto';
import { join } from 'node:path';

import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { ServerError } from '@apollo/client/errors';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { cacheExchange, Client, fetchExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import type { DocumentNode } from 'graphql';

import { PriceDocument, SignalFeedDocument, SignalStatisticsDocument } from '../../src/generated/graphql';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * Front ends as they are built, against running gateways: Apollo Client 4 (the persisted-queries
 * link before an HttpLink, hashed queries over GET) and urql (the persisted exchange before the
 * fetch exchange), each sending the documents codegen generates from schema/operations/. Every
 * request a client makes goes through a recording fetch, so each specification states what went
 * over the wire: the method, the id, whether the text went along, the status, the error code and
 * the gateway's x-cache.
 *
 * Two gateways: one without a manifest, where clients register what they send (automatic
 * persisted queries), and one that runs codegen's manifest in `require` mode (a production
 * allowlist), where clients send the ids codegen gave the documents (`__meta__.hash`).
 */

/** The manifest codegen writes beside the typed client (`npm run codegen`). */
const MANIFEST = join(__dirname, '..', '..', 'src', 'generated', 'persisted-documents.json');

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The id codegen gave a generated document: its key in the manifest. */
function codegenId(document: DocumentNode): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string') throw new Error('not a document generated with persisted ids: no __meta__.hash');
  return hash;
}

/** One request as a client sent it, and what the gateway answered. */
interface Exchange {
  readonly method: string;
  readonly url: string;
  /** `extensions.persistedQuery.sha256Hash`, from the URL of a GET or the body of a POST. */
  readonly sha256Hash: string | undefined;
  /** The query text, when it went along. */
  readonly query: string | undefined;
  readonly status: number;
  /** The first error's code, when the answer has errors. */
  readonly code: string | undefined;
  /** The gateway's MISS, HIT or HIT-SHARED; absent when the response cache was not asked. */
  readonly xCache: string | null;
}

interface Sent {
  readonly query?: string;
  readonly extensions?: { readonly persistedQuery?: { readonly sha256Hash?: string } };
}

/** Node's fetch, recording each exchange in the order the client made it. */
class Wire {
  readonly exchanges: Exchange[] = [];

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const sent = await sentIn(request);
    const response = await fetch(request);
    const answer = JSON.parse(await response.clone().text()) as { errors?: { extensions?: { code?: string } }[] };
    this.exchanges.push({
      method: request.method,
      url: request.url,
      sha256Hash: sent.extensions?.persistedQuery?.sha256Hash,
      query: sent.query,
      status: response.status,
      code: answer.errors?.[0]?.extensions?.code,
      xCache: response.headers.get('x-cache'),
    });
    return response;
  };
}

async function sentIn(request: Request): Promise<Sent> {
  if (request.method !== 'GET') return JSON.parse(await request.clone().text()) as Sent;
  const search = new URL(request.url).searchParams;
  const extensions = search.get('extensions');
  return { ...(search.has('query') ? { query: search.get('query')! } : {}), ...(extensions === null ? {} : { extensions: JSON.parse(extensions) as Sent['extensions'] }) };
}

const hashedGet = (sha256Hash: string, answered: { xCache: string | null; code?: string }) => ({ method: 'GET', sha256Hash, query: undefined, status: 200, code: undefined, ...answered });

/** An Apollo Client 4 front end: the persisted-queries link before an HttpLink, hashed queries over GET. */
function apolloFrontEnd(gateway: TestGateway, wire: Wire, hashing: { sha256: (text: string) => string } | { generateHash: (document: DocumentNode) => string }): ApolloClient {
  return new ApolloClient({
    link: new PersistedQueryLink({ ...hashing, useGETForHashedQueries: true }).concat(new HttpLink({ uri: `${gateway.url}/graphql`, fetch: wire.fetch })),
    cache: new InMemoryCache(),
  });
}

/**
 * A urql front end: the document cache, then the persisted exchange (persisted queries over GET;
 * everything else POSTed), then fetch. urql sends its GETs without a Content-Type, which Apollo's
 * CSRF prevention refuses unless one of its preflight headers is set, so urql needs
 * `apollo-require-preflight` (Apollo Client sends `content-type: application/json` on GETs too).
 */
function urqlFrontEnd(gateway: TestGateway, wire: Wire, options: { generateHash?: (query: string, document: DocumentNode) => Promise<string>; preflight?: boolean } = {}): Client {
  const { generateHash, preflight = true } = options;
  return new Client({
    url: `${gateway.url}/graphql`,
    fetch: wire.fetch,
    preferGetMethod: false,
    fetchOptions: preflight ? { headers: { 'apollo-require-preflight': 'true' } } : {},
    exchanges: [cacheExchange, persistedExchange({ preferGetForPersistedQueries: true, ...(generateHash === undefined ? {} : { generateHash }) }), fetchExchange],
  });
}

let registering: TestGateway;
let allowlisted: TestGateway;

beforeAll(async () => {
  [registering, allowlisted] = await Promise.all([startTestGateway(), startTestGateway({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_MODE: 'require' })]);
}, 60_000);

afterAll(() => Promise.all([registering?.close(), allowlisted?.close()]));

/** An instrument's signal counts as the database has them. */
async function statisticsInDatabase(gateway: TestGateway, symbol: string) {
  const [row] = await gateway.gateway.db.query<Record<string, number>>(
    'test.statistics',
    `select count(*)::int as "totalSignals",
            count(*) filter (where status = 'ACTIVE')::int as "activeSignals",
            count(*) filter (where status = 'EXECUTED')::int as "executedSignals",
            count(*) filter (where direction = 'BUY')::int as "buySignals",
            count(*) filter (where direction = 'SELL')::int as "sellSignals"
     from trading_signals where symbol = $1`,
    [symbol],
  );
  return { symbol, ...row };
}

/** The first `first` signals of an instrument's feed as the database orders them, and how many there are. */
async function feedInDatabase(gateway: TestGateway, symbol: string, first: number) {
  const ids = await gateway.gateway.db.query<{ id: number }>('test.feed', 'select id from trading_signals where symbol = $1 order by created_at desc, id desc', [symbol]);
  return { totalCount: ids.length, ids: ids.slice(0, first).map((row) => row.id) };
}

describe('Apollo Client 4 with the persisted-queries link (useGETForHashedQueries)', () => {
  describe('against a gateway without a manifest (automatic persisted queries)', () => {
    it("then its first hashed GET is not found, the link sends the text with the id once, and another visitor's identical query is a hashed GET answered from the response cache", async () => {
      const wire = new Wire();
      const variables = { symbol: 'EUR_USD' };
      const first = await apolloFrontEnd(registering, wire, { sha256 }).query({ query: SignalStatisticsDocument, variables });
      const again = await apolloFrontEnd(registering, wire, { sha256 }).query({ query: SignalStatisticsDocument, variables });

      const registered = wire.exchanges[1]?.query ?? '';
      expect(registered).toContain('query SignalStatistics(');
      const id = sha256(registered);
      expect(wire.exchanges).toMatchObject([
        hashedGet(id, { xCache: null, code: 'PERSISTED_QUERY_NOT_FOUND' }),
        // The link sends the text with a POST, whatever the method of the hashed request.
        { method: 'POST', sha256Hash: id, query: registered, status: 200, code: undefined, xCache: 'MISS' },
        hashedGet(id, { xCache: 'HIT' }),
      ]);
      expect(first.data?.signalStatistics).toMatchObject(await statisticsInDatabase(registering, variables.symbol));
      expect(again.data).toEqual(first.data);
    });
  });

  describe("against a gateway that runs codegen's manifest in require mode, sending codegen's ids (generateHash: __meta__.hash)", () => {
    it('then no id is refused or retried: the first hashed GET is a MISS and the same query again (network-only) a HIT', async () => {
      const wire = new Wire();
      const client = apolloFrontEnd(allowlisted, wire, { generateHash: codegenId });
      const variables = { symbol: 'USD_CHF' };
      const first = await client.query({ query: SignalStatisticsDocument, variables });
      const again = await client.query({ query: SignalStatisticsDocument, variables, fetchPolicy: 'network-only' });

      const id = codegenId(SignalStatisticsDocument);
      expect(wire.exchanges).toMatchObject([hashedGet(id, { xCache: 'MISS' }), hashedGet(id, { xCache: 'HIT' })]);
      expect(first.data?.signalStatistics).toMatchObject(await statisticsInDatabase(allowlisted, variables.symbol));
      expect(again.data).toEqual(first.data);
    });

    it('then the same query sent as free text, through a plain HttpLink, is refused with 400 PERSISTED_QUERY_ID_REQUIRED and runs nothing', async () => {
      const wire = new Wire();
      const client = new ApolloClient({ link: new HttpLink({ uri: `${allowlisted.url}/graphql`, fetch: wire.fetch }), cache: new InMemoryCache() });
      const calls = allowlisted.dataSourceCalls();

      await expect(client.query({ query: SignalStatisticsDocument, variables: { symbol: 'USD_CHF' } })).rejects.toBeInstanceOf(ServerError);
      expect(wire.exchanges).toMatchObject([{ method: 'POST', sha256Hash: undefined, query: expect.stringContaining('query SignalStatistics('), status: 400, code: 'PERSISTED_QUERY_ID_REQUIRED', xCache: null }]);
      expect(allowlisted.dataSourceCalls()).toBe(calls);
    });

    // Apollo Client's cache matches a fragment spread to its type by __typename, which it adds to
    // what it asks; the manifest's text must select it too (codegen.yml adds it to every selection
    // set), or the fields read through `...Quote` are dropped and the application gets `price: {}`.
    it("then the fields a document selects through a fragment reach the application too (Price spreads ...Quote)", async () => {
      const wire = new Wire();
      const { data } = await apolloFrontEnd(allowlisted, wire, { generateHash: codegenId }).query({ query: PriceDocument, variables: { symbol: 'USD_JPY' } });
      expect(wire.exchanges).toMatchObject([hashedGet(codegenId(PriceDocument), { xCache: 'MISS' })]);
      expect(data?.price).toMatchObject({ symbol: 'USD_JPY', bid: expect.any(Number), ask: expect.any(Number) });
    });
  });
});

describe('urql with the persisted exchange (preferGetForPersistedQueries)', () => {
  const first = 3;

  describe('against a gateway without a manifest (automatic persisted queries)', () => {
    it('then its first hashed GET is not found, the exchange sends the text with the id once (over GET), and the same query again (network-only) is a hashed GET answered from the response cache', async () => {
      const wire = new Wire();
      const client = urqlFrontEnd(registering, wire);
      const variables = { symbol: 'GBP_USD', first };
      const answer = await client.query(SignalFeedDocument, variables).toPromise();
      const again = await client.query(SignalFeedDocument, variables, { requestPolicy: 'network-only' }).toPromise();

      const registered = wire.exchanges[1]?.query ?? '';
      expect(registered).toContain('query SignalFeed(');
      const id = sha256(registered);
      expect(wire.exchanges).toMatchObject([
        hashedGet(id, { xCache: null, code: 'PERSISTED_QUERY_NOT_FOUND' }),
        { method: 'GET', sha256Hash: id, query: registered, status: 200, code: undefined, xCache: 'MISS' },
        hashedGet(id, { xCache: 'HIT' }),
      ]);
      expect(answer.error).toBeUndefined();
      const feed = answer.data?.signalsConnection;
      expect({ totalCount: feed?.totalCount, ids: feed?.edges.map((edge) => edge.node.id) }).toEqual(await feedInDatabase(registering, variables.symbol, first));
      expect(again.data).toEqual(answer.data);
    });
  });

  describe("against a gateway that runs codegen's manifest in require mode, sending codegen's ids", () => {
    const generateHash = (_query: string, document: DocumentNode) => Promise.resolve(codegenId(document));

    it('then no id is refused or retried: the first hashed GET is a MISS and the same query again (network-only) a HIT', async () => {
      const wire = new Wire();
      const client = urqlFrontEnd(allowlisted, wire, { generateHash });
      const variables = { symbol: 'AUD_USD', first };
      const answer = await client.query(SignalFeedDocument, variables).toPromise();
      const again = await client.query(SignalFeedDocument, variables, { requestPolicy: 'network-only' }).toPromise();

      const id = codegenId(SignalFeedDocument);
      expect(wire.exchanges).toMatchObject([hashedGet(id, { xCache: 'MISS' }), hashedGet(id, { xCache: 'HIT' })]);
      expect(answer.error).toBeUndefined();
      const feed = answer.data?.signalsConnection;
      expect({ totalCount: feed?.totalCount, ids: feed?.edges.map((edge) => edge.node.id) }).toEqual(await feedInDatabase(allowlisted, variables.symbol, first));
      expect(again.data).toEqual(answer.data);
    });

    it("then, without a preflight header, its GETs are refused as a possible cross-site request forgery (400) and nothing runs", async () => {
      const wire = new Wire();
      const calls = allowlisted.dataSourceCalls();
      const answer = await urqlFrontEnd(allowlisted, wire, { generateHash, preflight: false }).query(SignalFeedDocument, { symbol: 'NZD_USD', first }).toPromise();

      expect(answer.error?.message).toContain('Cross-Site Request Forgery');
      expect(wire.exchanges).toMatchObject([{ method: 'GET', sha256Hash: codegenId(SignalFeedDocument), query: undefined, status: 400, code: 'BAD_REQUEST', xCache: null }]);
      expect(allowlisted.dataSourceCalls()).toBe(calls);
    });
  });
});
