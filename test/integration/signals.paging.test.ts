import { createHash } from 'node:crypto';

import { startTestGateway, TEST_ADMIN_TOKEN, ALICE, type TestGateway } from '../helpers/test-gateway';

interface Edge {
  readonly cursor: string;
  readonly node: { readonly id: number; readonly status: string };
}

interface Connection {
  readonly totalCount?: number;
  readonly edges: readonly Edge[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly hasPreviousPage: boolean; readonly startCursor: string | null; readonly endCursor: string | null };
}

const PAGE = `query Page($symbol: String, $status: SignalStatus, $authorId: Int, $first: Int, $after: String, $last: Int, $before: String) {
  signalsConnection(symbol: $symbol, status: $status, authorId: $authorId, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe('paged signals (Relay cursor connections)', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway();
  }, 60_000);

  afterAll(() => gw.close());

  const page = async (variables: Record<string, unknown>, query = PAGE): Promise<Connection> => {
    const result = await gw.graphql<{ signalsConnection: Connection }>(query, variables);
    expect(result.errors).toBeUndefined();
    return result.data!.signalsConnection;
  };

  /** The ids of a list as the database orders them: newest first, by creation time then id. */
  const idsInDatabase = async (where: string, params: unknown[]): Promise<number[]> =>
    (await gw.gateway.db.query<{ id: number }>('test.ids', `select id from trading_signals where ${where} order by created_at desc, id desc`, params)).map((row) => row.id);

  const statements = () => gw.gateway.db.queryCounts().total;

  const post = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const response = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: { signalsConnection: Connection & { totalCount: number } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return { cache: response.headers.get('x-cache'), connection: body.data!.signalsConnection };
  };

  const createSignal = async (symbol: string, userId = 5): Promise<number> => {
    const created = await gw.graphql<{ createSignal: { id: number } }>(
      'mutation($input: CreateSignalInput!) { createSignal(input: $input) { id } }',
      { input: { symbol, timeframe: 'H1', direction: 'BUY', entryPrice: 1.1, confidence: 0.7, userId } },
      TEST_ADMIN_TOKEN,
    );
    expect(created.errors).toBeUndefined();
    return created.data!.createSignal.id;
  };

  describe('when a front end pages through a list', () => {
    it('then following endCursor gives every signal of the list once, newest first, as the database orders them', async () => {
      const seen: number[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const current: Connection = await page({ symbol: 'USD_CHF', first: 100, ...(after === null ? {} : { after }) });
        expect(current.pageInfo.hasPreviousPage).toBe(pages > 0);
        seen.push(...current.edges.map((edge) => edge.node.id));
        pages += 1;
        if (!current.pageInfo.hasNextPage) break;
        after = current.pageInfo.endCursor;
      }
      expect(seen).toEqual(await idsInDatabase('symbol = $1', ['USD_CHF']));
      expect(pages).toBeGreaterThan(2);
    });

    it('then following startCursor backward (last/before) gives the same list', async () => {
      const seen: number[] = [];
      let before: string | null = null;
      for (;;) {
        const current: Connection = await page({ symbol: 'USD_CHF', status: 'ACTIVE', last: 100, ...(before === null ? {} : { before }) });
        expect(current.pageInfo.hasNextPage).toBe(before !== null);
        seen.unshift(...current.edges.map((edge) => edge.node.id));
        if (!current.pageInfo.hasPreviousPage) break;
        before = current.pageInfo.startCursor;
      }
      expect(seen).toEqual(await idsInDatabase('symbol = $1 and status = $2', ['USD_CHF', 'ACTIVE']));
    });

    it('then each edge cursor is a place to resume from, and startCursor and endCursor are the first and last edges', async () => {
      const first = await page({ symbol: 'AUD_USD', first: 10 });
      expect(first.pageInfo.startCursor).toBe(first.edges[0]!.cursor);
      expect(first.pageInfo.endCursor).toBe(first.edges[9]!.cursor);
      const fromFifth = await page({ symbol: 'AUD_USD', first: 3, after: first.edges[4]!.cursor });
      expect(fromFifth.edges.map((edge) => edge.node.id)).toEqual(first.edges.slice(5, 8).map((edge) => edge.node.id));
      const beforeFifth = await page({ symbol: 'AUD_USD', last: 2, before: first.edges[4]!.cursor });
      expect(beforeFifth.edges.map((edge) => edge.node.id)).toEqual(first.edges.slice(2, 4).map((edge) => edge.node.id));
      expect(beforeFifth.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    });

    it('then a list with no members is an empty page with null cursors and a count of 0', async () => {
      const { connection } = await post('query($authorId: Int) { signalsConnection(authorId: $authorId, symbol: "EUR_USD", first: 5) { totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }', { authorId: 999_999 });
      expect(connection).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
    });

    it("then a user's own list pages like the others, and totalCount is the user's number of signals", async () => {
      const result = await gw.graphql<{ user: { statistics: { totalSignals: number }; signalsConnection: Connection & { totalCount: number } } }>(
        '{ user(id: 3) { statistics { totalSignals } signalsConnection(first: 100) { totalCount edges { node { id } } pageInfo { hasNextPage } } } }',
      );
      expect(result.errors).toBeUndefined();
      const user = result.data!.user;
      expect(user.signalsConnection.totalCount).toBe(user.statistics.totalSignals);
      expect(user.signalsConnection.edges.map((edge) => edge.node.id)).toEqual((await idsInDatabase('user_id = $1', [3])).slice(0, 100));
    });
  });

  it('then a filter or paging argument given as null is left open, as clients send it', async () => {
    const open = await page({ symbol: 'USD_CHF', first: 3 });
    expect(await page({ symbol: 'USD_CHF', status: null, authorId: null, first: 3, after: null, last: null, before: null })).toEqual(open);
  });

  describe('when a page is read cold', () => {
    it('then it costs at most 2 statements (the page and the count), at depth 1 as at depth 20', async () => {
      await gw.gateway.cache.invalidator.invalidateAllCache();
      const query = 'query($after: String) { signalsConnection(symbol: "GBP_USD", first: 20, after: $after) { totalCount edges { node { id } } pageInfo { endCursor } } }';
      let after: string | null = null;
      for (let depth = 1; depth <= 20; depth += 1) {
        await gw.gateway.cache.invalidator.invalidateSignalCache();
        const before = statements();
        const { connection } = await post(query, { after });
        expect(statements() - before).toBeLessThanOrEqual(2);
        after = connection.pageInfo.endCursor;
      }
      expect(after).not.toBeNull();
    });

    it('then totalCount is not counted unless it is asked for', async () => {
      await gw.gateway.cache.invalidator.invalidateSignalCache();
      const counts = () => gw.gateway.db.queryCounts().byLabel['signals.count'] ?? 0;
      const before = counts();
      await page({ symbol: 'NZD_USD', first: 5 });
      expect(counts()).toBe(before);
    });
  });

  describe('when the arguments are wrong, then BAD_USER_INPUT names them and nothing runs', () => {
    const refused = async (variables: Record<string, unknown>, field: string, message: RegExp) => {
      const before = statements();
      const result = await gw.graphql(PAGE, variables);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(result.errors?.[0]?.message).toMatch(message);
      expect(statements()).toBe(before);
    };
    let cursor: string;

    beforeAll(async () => {
      cursor = (await page({ symbol: 'EUR_USD', first: 2 })).pageInfo.endCursor!;
    });

    it('a forged cursor (well formed, but not one this API wrote)', async () => {
      const bytes = Buffer.from(cursor, 'base64url');
      bytes.writeUInt32BE(1, 15);
      await refused({ symbol: 'EUR_USD', first: 5, after: bytes.toString('base64url') }, 'after', /not a cursor of this list: malformed/);
      await refused({ symbol: 'EUR_USD', first: 5, after: Buffer.from('v1:1795742349276000:7').toString('base64url') }, 'after', /malformed/);
    });

    it('a well-formed cursor naming no place an item can have (an id above the largest id, a time out of range)', async () => {
      // The check is not a secret: anyone can write a cursor that passes it.
      const forged = (edit: (bytes: Buffer) => void) => {
        const bytes = Buffer.from(cursor, 'base64url');
        edit(bytes);
        createHash('sha256').update(bytes.subarray(0, 19)).digest().subarray(0, 4).copy(bytes, 19);
        return bytes.toString('base64url');
      };
      await refused({ symbol: 'EUR_USD', first: 5, after: forged((bytes) => bytes.writeUInt32BE(2 ** 31, 15)) }, 'after', /not a cursor of this list: malformed/);
      await refused({ symbol: 'EUR_USD', last: 5, before: forged((bytes) => bytes.writeUInt32BE(0xffffffff, 15)) }, 'before', /not a cursor of this list: malformed/);
      await refused({ symbol: 'EUR_USD', first: 5, after: forged((bytes) => bytes.writeBigInt64BE(9_000_000_000_000_000_000n, 7)) }, 'after', /not a cursor of this list: malformed/);
      await refused({ symbol: 'EUR_USD', first: 5, after: forged((bytes) => bytes.writeBigInt64BE(-1n, 7)) }, 'after', /not a cursor of this list: malformed/);
      // The largest id and a time near the end of year 9999 are places, though no item is there.
      const far = await gw.graphql(PAGE, { symbol: 'EUR_USD', last: 5, before: forged((bytes) => { bytes.writeUInt32BE(2 ** 31 - 1, 15); bytes.writeBigInt64BE(253_402_300_799_000_000n, 7); }) });
      expect(far.errors).toBeUndefined();
    });

    it('a truncated cursor, or one with characters base64url does not have', async () => {
      await refused({ symbol: 'EUR_USD', first: 5, after: cursor.slice(0, -3) }, 'after', /malformed/);
      await refused({ symbol: 'EUR_USD', last: 5, before: `${cursor.slice(0, -1)}=` }, 'before', /malformed/);
    });

    it("a cursor of another list (other filters), or of another version of the API's cursors", async () => {
      await refused({ symbol: 'GBP_USD', first: 5, after: cursor }, 'after', /belongs to another list/);
      await refused({ symbol: 'EUR_USD', status: 'ACTIVE', first: 5, after: cursor }, 'after', /belongs to another list/);
      const bytes = Buffer.from(cursor, 'base64url');
      bytes.writeUInt8(2, 0);
      await refused({ symbol: 'EUR_USD', first: 5, after: bytes.toString('base64url') }, 'after', /malformed|unknown version/);
    });

    it('first and last together, neither, a size outside 1 to 100, or a cursor for the other direction', async () => {
      await refused({ first: 5, last: 5 }, 'last', /first or last, not both/);
      await refused({}, 'first', /Give first/);
      await refused({ symbol: 'EUR_USD', first: 5, before: cursor }, 'before', /use it with last/);
      await refused({ symbol: 'EUR_USD', last: 5, after: cursor }, 'after', /use it with first/);
      for (const size of [0, 101, -1]) {
        const result = await gw.graphql(PAGE, { first: size });
        expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(result.errors?.[0]?.message).toMatch(/between 1 and 100/);
      }
    });

    it('a page so large with so much below it that the query costs more than the limit', async () => {
      const result = await gw.graphql('{ signalsConnection(first: 100) { edges { node { id user { id signals(limit: 50) { id symbol } } } } } }');
      expect(result.status).toBe(400);
      expect(result.errors?.[0]?.extensions).toMatchObject({ limit: 'cost' });
      expect(result.errors?.[0]?.message).toMatch(/Query is too costly/);
    });

    it('the same page sizes given in variables (or their defaults) cost as much, and small ones pass', async () => {
      const nested = 'query($first: Int!, $limit: Int) { signalsConnection(first: $first) { edges { node { id user { id signals(limit: $limit) { id symbol } } } } } }';
      for (const [query, variables] of [
        [nested, { first: 100, limit: 50 }],
        ['query($first: Int! = 100, $limit: Int = 50) { signalsConnection(first: $first) { edges { node { id user { id signals(limit: $limit) { id symbol } } } } } }', {}],
      ] as const) {
        const result = await gw.graphql(query, variables);
        expect(result.status).toBe(400);
        expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost' });
        expect(result.errors?.[0]?.message).toMatch(/Query is too costly/);
        expect(result.data).toBeUndefined();
      }
      const small = await gw.graphql<{ signalsConnection: { edges: unknown[] } }>(nested, { first: 3, limit: 2 });
      expect(small.errors).toBeUndefined();
      expect(small.data?.signalsConnection.edges).toHaveLength(3);
    });
  });

  describe('when signals are written, then only the lists they enter or leave are evicted', () => {
    const byNodes = 'query($symbol: String, $status: SignalStatus) { signalsConnection(symbol: $symbol, status: $status, first: 5) { totalCount edges { node { id status } } } }';
    // Another selection of the same lists: a response miss, answered from the data tier.
    const bySymbols = 'query($symbol: String, $status: SignalStatus) { signalsConnection(symbol: $symbol, status: $status, first: 5) { totalCount edges { node { id symbol } } } }';
    const pageReads = () => gw.gateway.db.queryCounts().byLabel['signals.findPage'] ?? 0;

    it('createSignal: its instrument, author and unfiltered lists are fresh at once; another instrument stays cached in both tiers', async () => {
      await post(byNodes, { symbol: 'EUR_GBP' });
      await post(byNodes, { symbol: 'USD_CAD' });
      await post(byNodes, {});
      const authorList = 'query($authorId: Int) { signalsConnection(authorId: $authorId, first: 5) { totalCount edges { node { id } } } }';
      await post(authorList, { authorId: 5 });
      expect((await post(byNodes, { symbol: 'USD_CAD' })).cache).toBe('HIT');

      const countBefore = (await post(byNodes, { symbol: 'EUR_GBP' })).connection.totalCount;
      const id = await createSignal('EUR_GBP', 5);

      const same = await post(byNodes, { symbol: 'EUR_GBP' });
      expect(same.cache).toBe('MISS');
      expect(same.connection.edges[0]!.node.id).toBe(id);
      expect(same.connection.totalCount).toBe(countBefore + 1);
      expect((await post(byNodes, {})).connection.edges[0]!.node.id).toBe(id);
      expect((await post(authorList, { authorId: 5 })).connection.edges[0]!.node.id).toBe(id);

      expect((await post(byNodes, { symbol: 'USD_CAD' })).cache).toBe('HIT');
      const reads = pageReads();
      expect((await post(bySymbols, { symbol: 'USD_CAD' })).cache).toBe('MISS');
      expect(pageReads()).toBe(reads);
    });

    it('updateSignalStatus: the status lists it leaves and enters are fresh; another status stays cached; lists open on status show the new status', async () => {
      const id = await createSignal('AUD_USD', 1);
      for (const status of ['ACTIVE', 'EXECUTED', 'EXPIRED']) await post(byNodes, { symbol: 'AUD_USD', status });
      await post(byNodes, { symbol: 'AUD_USD' });
      const executedBefore = (await post(byNodes, { symbol: 'AUD_USD', status: 'EXECUTED' })).connection.totalCount;
      const activeBefore = (await post(byNodes, { symbol: 'AUD_USD', status: 'ACTIVE' })).connection.totalCount;

      const moved = await gw.graphql('mutation($id: Int!) { updateSignalStatus(id: $id, status: EXECUTED) { id } }', { id }, ALICE);
      expect(moved.errors).toBeUndefined();

      const active = await post(byNodes, { symbol: 'AUD_USD', status: 'ACTIVE' });
      expect(active.connection.edges.map((edge) => edge.node.id)).not.toContain(id);
      expect(active.connection.totalCount).toBe(activeBefore - 1);
      const executed = await post(byNodes, { symbol: 'AUD_USD', status: 'EXECUTED' });
      expect(executed.connection.edges[0]!.node).toEqual({ id, status: 'EXECUTED' });
      expect(executed.connection.totalCount).toBe(executedBefore + 1);
      expect((await post(byNodes, { symbol: 'AUD_USD' })).connection.edges[0]!.node).toEqual({ id, status: 'EXECUTED' });

      expect((await post(byNodes, { symbol: 'AUD_USD', status: 'EXPIRED' })).cache).toBe('HIT');
      const reads = pageReads();
      expect((await post(bySymbols, { symbol: 'AUD_USD', status: 'EXPIRED' })).cache).toBe('MISS');
      expect(pageReads()).toBe(reads);
    });

    it("an operator's invalidation of a user reaches the user's pages as it reaches the user's other lists", async () => {
      const author = 'query($authorId: Int) { signalsConnection(authorId: $authorId, symbol: "NZD_USD", first: 5) { totalCount edges { node { id } } } }';
      const nested = gw.graphql.bind(gw, '{ user(id: 4) { signals(limit: 5) { id } signalsConnection(first: 5) { totalCount edges { node { id } } } } }');
      const before = (await post(author, { authorId: 4 })).connection.totalCount;
      expect((await post(author, { authorId: 4 })).cache).toBe('HIT');
      expect((await nested()).errors).toBeUndefined();
      // A row written behind the API's back, then the operator's USER scope for its author.
      const [row] = await gw.gateway.db.query<{ id: number }>('test.insert', `insert into trading_signals (user_id, symbol, timeframe, direction, status, entry_price, confidence) values (4, 'NZD_USD', 'H1', 'BUY', 'ACTIVE', 0.6, 0.5) returning id`, []);
      await gw.gateway.cache.invalidator.invalidateUserCache(4);

      const fresh = await post(author, { authorId: 4 });
      expect(fresh.connection.totalCount).toBe(before + 1);
      expect(fresh.connection.edges[0]!.node.id).toBe(row!.id);
      const user = (await nested()).data as { user: { signals: { id: number }[]; signalsConnection: Connection & { totalCount: number } } };
      expect(user.user.signals[0]!.id).toBe(row!.id);
      expect(user.user.signalsConnection.edges[0]!.node.id).toBe(row!.id);
    });

    it("an operator's invalidation of the signals scope reaches every page", async () => {
      await post(byNodes, { symbol: 'USD_JPY' });
      expect((await post(byNodes, { symbol: 'USD_JPY' })).cache).toBe('HIT');
      await gw.gateway.cache.invalidator.invalidateSignalCache('EUR_USD');
      const reads = pageReads();
      expect((await post(byNodes, { symbol: 'USD_JPY' })).cache).toBe('MISS');
      expect(pageReads()).toBe(reads + 1);
    });
  });

  describe('when warming runs', () => {
    it("then the first page of each instrument's feed and its count are cached", async () => {
      await gw.gateway.cache.invalidator.invalidateAllCache();
      await gw.gateway.warming.warm(['signals_data']);
      const before = statements();
      const feed = 'query($symbol: String, $first: Int = 20) { signalsConnection(symbol: $symbol, first: $first) { totalCount edges { node { id } } } }';
      for (const symbol of ['EUR_USD', 'USD_JPY', 'AUD_USD']) await post(feed, { symbol });
      expect(statements()).toBe(before);
    });
  });
});
