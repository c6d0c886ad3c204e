import { Database, type SqlDriver } from '../../src/db/database';
import { migrate, migrations } from '../../src/db/migrations';
import { PgDriver } from '../../src/db/pg-driver';
import { PgliteDriver } from '../../src/db/pglite-driver';
import { MAX_PRICE } from '../../src/graphql/validators';
import { createScratchSchema, postgresReachable, type ScratchSchema, TEST_POSTGRES_URL } from '../helpers/postgres';
import { ALICE, BOB, startTestGateway, TEST_ADMIN_TOKEN, type GraphqlResult, type TestGateway } from '../helpers/test-gateway';

/**
 * Hostile input (issue 13), the neighbour of security.test.ts: values that used to reach the
 * store, break later reads, answer 500 or tell one user about another's email. Each is refused
 * with BAD_USER_INPUT (or, for an email a session may not set, one FORBIDDEN for every address),
 * and the database refuses the numbers too, whoever writes them.
 */
const reachable = postgresReachable();
if (!reachable) {
  // Visible on purpose: the races need a server with concurrent connections.
  console.warn(`NOTICE: PostgreSQL at ${TEST_POSTGRES_URL} is unreachable; hostile input is tried on PGlite only and the race tests are skipped.`);
}
const onPostgres = reachable ? it : it.skip;

type Result = GraphqlResult<Record<string, unknown>>;

describe(`hostile input over HTTP (${reachable ? 'PostgreSQL' : 'PGlite'})`, () => {
  let schema: ScratchSchema | undefined;
  let gw: TestGateway;

  beforeAll(async () => {
    schema = reachable ? await createScratchSchema() : undefined;
    gw = await startTestGateway(schema === undefined ? {} : { DATABASE_URL: schema.url });
  }, 90_000);

  afterAll(async () => {
    await gw?.close();
    await schema?.drop();
  });

  const inserts = () => gw.gateway.db.queryCounts().byLabel['signals.insert'] ?? 0;
  const codeOf = (result: Result) => result.errors?.[0]?.extensions?.code;
  const createSignal = (fields: string, token = ALICE) =>
    gw.graphql<{ createSignal: { id: number; status: string } }>(`mutation { createSignal(input: { timeframe: H1, ${fields} }) { id status } }`, undefined, token);

  describe('numbers', () => {
    it.each([
      ['entryPrice 1e400 (Infinity)', 'symbol: "EUR_USD", direction: BUY, entryPrice: 1e400, confidence: 0.5', 'entryPrice must be a finite number'],
      ['entryPrice -1e400 (-Infinity)', 'symbol: "EUR_USD", direction: BUY, entryPrice: -1e400, confidence: 0.5', 'entryPrice must be a finite number'],
      ['stopLoss 1e400 on a SELL (above its entry)', 'symbol: "EUR_USD", direction: SELL, entryPrice: 1.08, stopLoss: 1e400, confidence: 0.5', 'stopLoss must be a finite number'],
      ['takeProfit 1e400 on a BUY (above its entry)', 'symbol: "EUR_USD", direction: BUY, entryPrice: 1.08, takeProfit: 1e400, confidence: 0.5', 'takeProfit must be a finite number'],
      ['confidence 1e400', 'symbol: "EUR_USD", direction: BUY, entryPrice: 1.08, confidence: 1e400', 'confidence must be a finite number'],
      ['an entryPrice above the largest price', `symbol: "EUR_USD", direction: BUY, entryPrice: ${MAX_PRICE + 1}, confidence: 0.5`, `entryPrice must be at most ${MAX_PRICE}`],
      ['a takeProfit above the largest price', `symbol: "EUR_USD", direction: BUY, entryPrice: 1.08, takeProfit: 1e12, confidence: 0.5`, `takeProfit must be at most ${MAX_PRICE}`],
    ])('refuses %s with BAD_USER_INPUT, storing nothing', async (_label, fields, message) => {
      const before = inserts();
      const result = await createSignal(fields);
      expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining(message), extensions: { code: 'BAD_USER_INPUT' } });
      expect(result.data).toBeNull();
      expect(inserts()).toBe(before);
    });

    it('refuses 1e400 in variables too (graphql-js coerces variables, and refuses)', async () => {
      const before = inserts();
      const response = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ALICE}` },
        // JSON.parse reads 1e400 as Infinity, like the literal.
        body: '{"query":"mutation($p: Float!) { createSignal(input: { symbol: \\"EUR_USD\\", timeframe: H1, direction: BUY, entryPrice: $p, confidence: 0.5 }) { id } }","variables":{"p":1e400}}',
      });
      const body = (await response.json()) as Result;
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(inserts()).toBe(before);
    });

    it('accepts the largest price itself', async () => {
      const ok = await createSignal(`symbol: "USD_JPY", direction: SELL, entryPrice: ${MAX_PRICE}, takeProfit: 150, confidence: 0.5`);
      expect(ok.errors).toBeUndefined();
      expect(ok.data?.createSignal.status).toBe('ACTIVE');
    });

    it('keeps every list of signals answering after the attempts', async () => {
      const result = await gw.graphql('{ signals(limit: 200) { entryPrice stopLoss takeProfit confidence } latestSignals(symbols: ["EUR_USD", "USD_JPY"], perSymbol: 50) { entryPrice } }');
      expect(result.errors).toBeUndefined();
      const lists = result.data as { signals: { entryPrice: number }[]; latestSignals: { entryPrice: number }[] };
      expect([...lists.signals, ...lists.latestSignals].every((signal) => Number.isFinite(signal.entryPrice) && signal.entryPrice <= MAX_PRICE)).toBe(true);
    });
  });

  describe('control characters in text', () => {
    it.each([
      ['NUL', '\\u0000'],
      ['a tab', '\\t'],
      ['a line feed', '\\n'],
      ['ESC', '\\u001b'],
      ['DEL', '\\u007f'],
      ['a C1 control (NEL)', '\\u0085'],
    ])('refuses %s in displayName with BAD_USER_INPUT (a literal and a variable), changing nothing', async (_label, escape) => {
      const literal = await gw.graphql(`mutation { updateUser(id: 2, input: { displayName: "Bob${escape}by" }) { displayName } }`, undefined, BOB);
      expect(literal.errors?.[0]).toMatchObject({ message: expect.stringContaining('input.displayName must not contain control characters'), extensions: { code: 'BAD_USER_INPUT' } });
      const displayName = JSON.parse(`"Bob${escape}by"`) as string;
      const variable = await gw.graphql('mutation($input: UpdateUserInput!) { updateUser(id: 2, input: $input) { displayName } }', { input: { displayName } }, BOB);
      expect(variable.errors?.[0]).toMatchObject({ message: expect.stringContaining('input.displayName must not contain control characters'), extensions: { code: 'BAD_USER_INPUT' } });
      const stored = await gw.gateway.db.query<{ displayName: string }>('test.user', 'select display_name as "displayName" from users where id = 2');
      expect(stored[0]!.displayName).not.toMatch(/\p{Cc}/u);
    });

    it.each([
      ['email', 'mutation { updateUser(id: 3, input: { email: "carol\\u0000@example.com" }) { id } }', TEST_ADMIN_TOKEN],
      ['a symbol to create a signal on', 'mutation { createSignal(input: { symbol: "EUR_USD\\u0000", timeframe: H1, direction: BUY, entryPrice: 1.08, confidence: 0.5 }) { id } }', ALICE],
      ['a symbol to read', '{ signals(symbol: "EUR\\u0000USD") { id } }', undefined],
      ['an invalidation pattern', 'mutation { invalidateCache(input: { scope: PATTERN, pattern: "users:\\u0000" }) { removed } }', TEST_ADMIN_TOKEN],
    ])('refuses NUL in %s with BAD_USER_INPUT', async (_label, operation, token) => {
      const result = await gw.graphql(operation, undefined, token);
      expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining('must not contain control characters'), extensions: { code: 'BAD_USER_INPUT' } });
    });
  });

  describe('emails', () => {
    const setEmail = (id: number, email: string, token: string) =>
      gw.graphql<{ updateUser: { email: string | null } }>('mutation($id: Int!, $email: String!) { updateUser(id: $id, input: { email: $email }) { email } }', { id, email }, token);
    const storedEmail = async (id: number) =>
      (await gw.gateway.db.query<{ email: string }>('test.email', 'select email from users where id = $1', [id]))[0]!.email;

    it("answers a session alike for another user's address, a case variant of it and a free one: nothing tells them apart", async () => {
      const answers = await Promise.all(['alice@example.com', 'ALICE@Example.COM', 'nobody-has-this-one@example.com'].map((email) => setEmail(2, email, BOB)));
      for (const answer of answers) expect(answer).toEqual(answers[0]);
      expect(answers[0]).toMatchObject({ data: null, errors: [{ extensions: { code: 'FORBIDDEN' } }] });
      expect(JSON.stringify(answers[0])).not.toMatch(/in use|taken|exists/i);
      expect(await storedEmail(2)).toBe('bob@example.com');
      expect(await storedEmail(1)).toBe('alice@example.com');
    });

    it('lets a session send its own address back, in any case, with other changes', async () => {
      const result = await gw.graphql<{ updateUser: { displayName: string; email: string } }>(
        'mutation { updateUser(id: 2, input: { displayName: "Bob", email: "Bob@Example.com" }) { displayName email } }',
        undefined,
        BOB,
      );
      expect(result.data).toEqual({ updateUser: { displayName: 'Bob', email: 'bob@example.com' } });
    });

    it('tells an admin a case variant of a taken address is in use, and stores addresses in lower case', async () => {
      expect((await setEmail(3, 'ALICE@example.com', TEST_ADMIN_TOKEN)).errors?.[0]).toMatchObject({
        message: 'This email address is already in use',
        extensions: { code: 'BAD_USER_INPUT', field: 'email' },
      });
      expect((await setEmail(3, 'Carol.New@Example.COM', TEST_ADMIN_TOKEN)).data).toEqual({ updateUser: { email: 'carol.new@example.com' } });
      expect(await storedEmail(3)).toBe('carol.new@example.com');
    });

    onPostgres('settles concurrent changes of several users to one address: one wins, the others hear "in use", none a 500', async () => {
      // Several rounds: one round of requests can happen to run one after another and prove nothing.
      for (let round = 0; round < 5; round += 1) {
        const address = `race${round}@example.com`;
        const variants = [address, address, address.toUpperCase(), address, `Race${round}@Example.com`, address, address, address.toUpperCase()];
        const results = await Promise.all(variants.map((email, index) => setEmail(100 + round * 10 + index, email, TEST_ADMIN_TOKEN)));
        const won = results.filter((result) => result.errors === undefined);
        expect(won).toHaveLength(1);
        expect(won[0]!.data).toEqual({ updateUser: { email: address } });
        for (const result of results.filter((r) => r.errors !== undefined)) {
          expect(result.errors?.[0]).toMatchObject({ message: 'This email address is already in use', extensions: { code: 'BAD_USER_INPUT' } });
        }
        const holders = await gw.gateway.db.query<{ count: number }>('test.holders', 'select count(*)::int as count from users where lower(email) = $1', [address]);
        expect(holders[0]!.count).toBe(1);
      }
    });
  });

  describe('signal status', () => {
    const setStatus = (id: number, status: string, token = ALICE) =>
      gw.graphql<{ updateSignalStatus: { status: string } }>(`mutation { updateSignalStatus(id: ${id}, status: ${status}) { status } }`, undefined, token);
    const newSignal = async () => (await createSignal('symbol: "EUR_USD", direction: BUY, entryPrice: 1.08, confidence: 0.5')).data!.createSignal.id;
    const stored = async (id: number) =>
      (await gw.gateway.db.query<{ status: string; updatedAt: Date }>('test.signal', 'select status, updated_at as "updatedAt" from trading_signals where id = $1', [id]))[0]!;

    it.each([['EXECUTED'], ['EXPIRED'], ['CANCELLED']])('refuses to set %s again, or any other status, once it is final; changing nothing', async (final) => {
      const id = await newSignal();
      expect((await setStatus(id, final)).data).toEqual({ updateSignalStatus: { status: final } });
      const before = await stored(id);
      for (const next of ['EXECUTED', 'EXPIRED', 'CANCELLED', 'ACTIVE']) {
        const result = await setStatus(id, next, TEST_ADMIN_TOKEN);
        expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining(`it is ${final}, a final status`), extensions: { code: 'BAD_USER_INPUT' } });
      }
      expect(await stored(id)).toEqual(before);
    });

    it('refuses ACTIVE for an ACTIVE signal', async () => {
      const id = await newSignal();
      expect((await setStatus(id, 'ACTIVE')).errors?.[0]).toMatchObject({ message: expect.stringContaining('already ACTIVE'), extensions: { code: 'BAD_USER_INPUT' } });
    });

    onPostgres('lets exactly one of several concurrent changes of an ACTIVE signal apply', async () => {
      const id = await newSignal();
      const wanted = ['EXECUTED', 'CANCELLED', 'EXPIRED', 'EXECUTED', 'CANCELLED', 'EXPIRED'];
      const results = await Promise.all(wanted.map((status, index) => setStatus(id, status, index % 2 === 0 ? ALICE : TEST_ADMIN_TOKEN)));
      const won = results.flatMap((result, index) => (result.errors === undefined ? [wanted[index]] : []));
      expect(won).toHaveLength(1);
      for (const result of results.filter((r) => r.errors !== undefined)) expect(codeOf(result)).toBe('BAD_USER_INPUT');
      expect((await stored(id)).status).toBe(won[0]);
    });
  });

  describe('an optional mutation field sent as null, which means left out', () => {
    const userUpdates = () => gw.gateway.db.queryCounts().byLabel['users.update'] ?? 0;
    type Updated = { updateUser: { displayName: string; email: string } };

    it('updateUser changes the fields given and leaves a null one as it is', async () => {
      const result = await gw.graphql<Updated>('mutation { updateUser(id: 1, input: { displayName: "Alice B", email: null }) { displayName email } }', undefined, ALICE);
      expect(result).toMatchObject({ data: { updateUser: { displayName: 'Alice B', email: 'alice@example.com' } } });
      expect(result.errors).toBeUndefined();
      const byVariable = await gw.graphql<Updated>('mutation($email: String) { updateUser(id: 1, input: { displayName: "Alice Ito", email: $email }) { displayName email } }', { email: null }, TEST_ADMIN_TOKEN);
      expect(byVariable).toMatchObject({ data: { updateUser: { displayName: 'Alice Ito', email: 'alice@example.com' } } });
    });

    it('updateUser with only null fields has nothing to update, and writes nothing', async () => {
      const before = userUpdates();
      const result = await gw.graphql('mutation { updateUser(id: 1, input: { displayName: null, email: null }) { updatedAt } }', undefined, ALICE);
      expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining('Nothing to update'), extensions: { code: 'BAD_USER_INPUT' } });
      expect(userUpdates()).toBe(before);
    });

    it('createSignal takes a null stopLoss or takeProfit as no level, in either direction', async () => {
      for (const fields of ['direction: SELL, stopLoss: null, takeProfit: 1.0', 'direction: BUY, stopLoss: 1.0, takeProfit: null', 'direction: BUY, stopLoss: null, takeProfit: null']) {
        const result = await createSignal(`symbol: "EUR_USD", entryPrice: 1.1, confidence: 0.5, ${fields}`);
        expect(result.errors).toBeUndefined();
        expect(result.data?.createSignal.status).toBe('ACTIVE');
      }
    });

    it("createSignal takes a null userId as none: a session's own signal, and for the admin the author is still required", async () => {
      const own = await gw.graphql<{ createSignal: { user: { id: number } } }>('mutation { createSignal(input: { symbol: "EUR_USD", timeframe: H1, direction: BUY, entryPrice: 1.1, confidence: 0.5, userId: null }) { user { id } } }', undefined, ALICE);
      expect(own.errors).toBeUndefined();
      expect(own.data?.createSignal.user.id).toBe(1);
      const before = inserts();
      const admin = await createSignal('symbol: "EUR_USD", direction: BUY, entryPrice: 1.1, confidence: 0.5, userId: null', TEST_ADMIN_TOKEN);
      expect(admin.errors?.[0]).toMatchObject({ message: expect.stringContaining('userId is required'), extensions: { code: 'BAD_USER_INPUT', field: 'userId' } });
      expect(inserts()).toBe(before);
    });

    it("invalidateCache and triggerCacheWarming read null as left out: a scope's missing argument is named, null strategies are all of them", async () => {
      const invalidate = (input: string) => gw.graphql(`mutation { invalidateCache(input: ${input}) { scope } }`, undefined, TEST_ADMIN_TOKEN);
      expect((await invalidate('{ scope: USER, id: null }')).errors?.[0]).toMatchObject({ message: 'scope user needs id', extensions: { code: 'BAD_USER_INPUT' } });
      expect((await invalidate('{ scope: PATTERN, pattern: null }')).errors?.[0]).toMatchObject({ message: expect.stringContaining('scope pattern needs a pattern'), extensions: { code: 'BAD_USER_INPUT' } });
      expect(await invalidate('{ scope: SIGNALS, symbol: null }')).toMatchObject({ data: { invalidateCache: { scope: 'SIGNALS' } } });
      expect((await invalidate('{ scope: ALL, symbol: "EUR_USD" }')).errors?.[0]).toMatchObject({ message: 'scope all does not take symbol', extensions: { code: 'BAD_USER_INPUT', field: 'symbol' } });
      expect((await invalidate('{ scope: MARKET, id: 3, pattern: "market:*" }')).errors?.[0]).toMatchObject({ message: 'scope market does not take id, pattern', extensions: { code: 'BAD_USER_INPUT' } });
      const warming = await gw.graphql('mutation { triggerCacheWarming(strategies: null) { ran } }', undefined, TEST_ADMIN_TOKEN);
      expect(warming.errors).toBeUndefined();
    });
  });

  describe('instruments', () => {
    it.each([['ABC_XYZ'], ['EUR_CHF']])('refuses a signal on %s, which the market-data feed does not list, storing nothing', async (symbol) => {
      const before = inserts();
      const result = await createSignal(`symbol: "${symbol}", direction: BUY, entryPrice: 1.08, confidence: 0.5`);
      expect(result.errors?.[0]).toMatchObject({ message: expect.stringContaining(`${symbol} is not an instrument the market-data feed lists`), extensions: { code: 'BAD_USER_INPUT' } });
      expect(inserts()).toBe(before);
      expect((await gw.graphql(`{ prices(symbols: ["${symbol}"]) { symbol } }`)).data).toEqual({ prices: [null] });
    });
  });
});

/** The database itself refuses what the API refuses, on both stores: a writer that bypasses the API (a script, a psql session) cannot store it either. */
describe.each([
  ['PGlite', true],
  ['PostgreSQL', reachable],
])('the store (%s)', (store, available) => {
  const stores: { db: Database; drop(): Promise<void> }[] = [];

  /** A fresh, empty store: a new PGlite, or a scratch schema of the local PostgreSQL. */
  async function freshStore(): Promise<Database> {
    if (store === 'PGlite') {
      const driver: SqlDriver = await PgliteDriver.start();
      const db = new Database(driver);
      stores.push({ db, drop: () => db.close() });
      return db;
    }
    const schema = await createScratchSchema();
    const db = new Database(new PgDriver({ url: schema.url, poolSize: 2 }));
    stores.push({ db, drop: async () => { await db.close(); await schema.drop(); } });
    return db;
  }

  /** A store as the first release left it: migration 1 only. */
  async function storeAtMigration1(): Promise<Database> {
    const db = await freshStore();
    const first = migrations[0]!;
    await db.transaction(async (tx) => {
      await tx.exec('create table schema_migrations (id integer primary key, name text not null, applied_at timestamptz not null default now())');
      await tx.exec(first.sql);
      await tx.query('insert into schema_migrations (id, name) values ($1, $2)', [first.id, first.name]);
    });
    return db;
  }

  afterAll(async () => {
    for (const opened of stores) await opened.drop();
  });

  /** A PGlite starts in seconds, more on a busy 2-core machine: the store tests get a minute each. */
  const maybe = (name: string, test: () => Promise<void>) => (available ? it : it.skip)(name, test, 60_000);
  const insertSignal = (db: Database, levels: { entry: unknown; stop?: unknown; target?: unknown }) =>
    db.query(
      'test.insert',
      `insert into trading_signals (user_id, symbol, timeframe, direction, status, entry_price, stop_loss, take_profit, confidence)
       values (1, 'EUR_USD', 'H1', 'BUY', 'ACTIVE', $1, $2, $3, 0.5)`,
      [levels.entry, levels.stop ?? null, levels.target ?? null],
    );
  const addUser = (db: Database, username: string, email: string) =>
    db.query('test.user', "insert into users (username, email, display_name, tier) values ($1, $2, $1, 'FREE')", [username, email]);

  /** One migrated store for the tests that only write to it (a PGlite takes seconds to start). */
  let migrated: Promise<Database> | undefined;
  const migratedStore = () =>
    (migrated ??= freshStore().then(async (db) => {
      await migrate(db);
      return db;
    }));

  maybe('refuses a direct INSERT of a non-finite or out-of-range price, and takes the largest price', async () => {
    const db = await migratedStore();
    await addUser(db, 'writer', 'writer@example.com');
    for (const levels of [
      { entry: Infinity },
      { entry: 'Infinity' },
      { entry: -Infinity },
      { entry: NaN },
      { entry: 'NaN' },
      { entry: MAX_PRICE + 0.01 },
      { entry: 1.08, stop: Infinity },
      { entry: 1.08, stop: NaN },
      { entry: 1.08, target: 'Infinity' },
      { entry: 1.08, target: 1e7 },
    ]) {
      // -Infinity and negative values meet the first release's "> 0" check first; the rest, migration 2's range checks.
      await expect(insertSignal(db, levels)).rejects.toMatchObject({ code: '23514', constraint: expect.stringMatching(/^trading_signals_(entry_price|stop_loss|take_profit)_(check|range)$/) });
    }
    await expect(insertSignal(db, { entry: MAX_PRICE, stop: 1, target: MAX_PRICE })).resolves.toEqual([]);
  });

  maybe('refuses a second account whose email differs only in case', async () => {
    const db = await migratedStore();
    await addUser(db, 'first', 'same@example.com');
    await expect(addUser(db, 'second', 'Same@Example.com')).rejects.toMatchObject({ code: '23505', constraint: 'users_email_lower_key' });
  });

  maybe('migrates a store of the first release: unservable signals set aside, emails in lower case', async () => {
    const db = await storeAtMigration1();
    await addUser(db, 'mixed', 'Mixed.Case@Example.COM');
    await insertSignal(db, { entry: 1.08 });
    await insertSignal(db, { entry: Infinity });
    await insertSignal(db, { entry: 1.08, stop: 'NaN' });
    await insertSignal(db, { entry: 1.08, target: 5e6 });
    expect(await migrate(db)).toEqual(migrations.slice(1).map((migration) => migration.id));
    expect(await db.query('test.rest', 'select entry_price::float8 as "entryPrice" from trading_signals')).toEqual([{ entryPrice: 1.08 }]);
    expect(await db.query('test.aside', 'select count(*)::int as count from trading_signals_quarantine')).toEqual([{ count: 3 }]);
    expect(await db.query('test.email', 'select email from users')).toEqual([{ email: 'mixed.case@example.com' }]);
  });

  maybe('stops, naming the accounts and applying nothing, when two accounts hold one email in different cases', async () => {
    const db = await storeAtMigration1();
    await addUser(db, 'one', 'twin@example.com');
    await addUser(db, 'two', 'Twin@Example.com');
    await expect(migrate(db)).rejects.toThrow(/users 1, 2 share emails that differ only in case/);
    expect(await db.query('test.applied', 'select id from schema_migrations')).toEqual([{ id: 1 }]);
    expect(await db.query('test.emails', 'select email from users order by id')).toEqual([{ email: 'twin@example.com' }, { email: 'Twin@Example.com' }]);
  });
});
