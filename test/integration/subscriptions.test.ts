import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { print } from 'graphql';
import pino from 'pino';
import WebSocket from 'ws';

import { LiveQuotesDocument } from '../../src/generated/graphql';

import { eventuallyPasses } from '../helpers/eventually';
import { ALICE, startTestGateway, TEST_ADMIN_TOKEN, type TestGateway } from '../helpers/test-gateway';

/** The subscriptions' own clients: graphql-ws over WebSocket, graphql-sse in distinct-connections mode. */
interface Received<T> {
  readonly items: T[];
  readonly errors: unknown[];
  done: boolean;
  stop(): void;
}

function wsClient(gateway: TestGateway, token?: string, extra: Partial<Parameters<typeof createWsClient>[0]> = {}): Client {
  return createWsClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: true,
    ...extra,
  });
}

function collect<T>(client: { subscribe: Client['subscribe'] }, query: string, variables: Record<string, unknown> = {}, extensions?: Record<string, unknown>): Received<T> {
  const received: Received<T> = { items: [], errors: [], done: false, stop: () => undefined };
  received.stop = client.subscribe<T>(
    { query, variables, ...(extensions === undefined ? {} : { extensions }) },
    {
      next: (value) => {
        if (value.errors !== undefined) received.errors.push(...value.errors);
        if (value.data !== undefined && value.data !== null) received.items.push(value.data);
      },
      error: (error) => {
        received.errors.push(error);
        received.done = true;
      },
      complete: () => {
        received.done = true;
      },
    },
  );
  return received;
}

const PRICES = 'subscription Ticks($symbols: [String!]!) { prices(symbols: $symbols) { symbol bid ask mid time } }';
const SIGNAL_EVENTS = 'subscription Events($symbols: [String!], $after: String) { signalEvents(symbols: $symbols, after: $after) { id kind message signal { id symbol status user { username } } } }';
const CREATE = 'mutation Create($input: CreateSignalInput!) { createSignal(input: $input) { id status } }';
const newSignal = (symbol: string, userId = 1) => ({ input: { symbol, timeframe: 'H1', direction: 'BUY', entryPrice: 1.1, stopLoss: 1.0, takeProfit: 1.2, confidence: 0.7, userId } });

/** Codegen's manifest: front ends that send ids send them for subscriptions too. */
const MANIFEST = join(__dirname, '../../src/generated/persisted-documents.json');

type Tick = { prices: { symbol: string; bid: number; ask: number; mid: number; time: string } };
type SignalEventData = { signalEvents: { id: string; kind: string; message: string | null; signal: { id: number; symbol: string; status: string; user: { username: string } } | null } };

describe('GraphQL subscriptions over graphql-ws and SSE', () => {
  let gateway: TestGateway;
  const clients: Client[] = [];
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line) as Record<string, unknown>) });
    gateway = await startTestGateway({ PERSISTED_DOCUMENTS: MANIFEST, MARKET_SIM_TICKS_PER_SECOND: '20', WS_INIT_TIMEOUT_MS: '400', SUBSCRIPTION_AUTH_RECHECK_MS: '200' }, { logger });
  }, 120_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => client.dispose()));
  });
  let closed = false;
  afterAll(async () => {
    if (!closed) await gateway.close();
  });

  it('streams quote ticks to a graphql-ws client, and a pushed tick refreshes price for HTTP readers', async () => {
    const client = wsClient(gateway);
    clients.push(client);
    const ticks = collect<Tick>(client, PRICES, { symbols: ['EUR_USD', 'GBP_USD'] });
    await eventuallyPasses(() => expect(new Set(ticks.items.map((tick) => tick.prices.symbol))).toEqual(new Set(['EUR_USD', 'GBP_USD'])), 5_000);
    expect(ticks.errors).toEqual([]);
    const seen = ticks.items.at(-1)!.prices;
    // The tick was applied to the cache before it was sent: price is never older than the stream.
    const { data } = await gateway.graphql<{ price: { symbol: string; time: string } }>('query($s: String!) { price(symbol: $s) { symbol time } }', { s: seen.symbol });
    expect(Date.parse(data!.price.time)).toBeGreaterThanOrEqual(Date.parse(seen.time));
  });

  it('sends a signal event after the write is committed and readable, to subscribers filtered by instrument', async () => {
    const client = wsClient(gateway);
    clients.push(client);
    const usdJpy = collect<SignalEventData>(client, SIGNAL_EVENTS, { symbols: ['USD_JPY'] });
    const all = collect<SignalEventData>(client, SIGNAL_EVENTS, {});
    await eventuallyPasses(() => expect(gateway.gateway.live?.hub.size.subscriptions).toBe(2), 3_000);
    const created = await gateway.graphql<{ createSignal: { id: number } }>(CREATE, newSignal('EUR_USD'), TEST_ADMIN_TOKEN);
    const createdJpy = await gateway.graphql<{ createSignal: { id: number } }>(CREATE, newSignal('USD_JPY'), TEST_ADMIN_TOKEN);
    await eventuallyPasses(() => expect(all.items).toHaveLength(2), 5_000);
    await eventuallyPasses(() => expect(usdJpy.items).toHaveLength(1), 5_000);
    expect(all.items.map((event) => event.signalEvents.signal?.id)).toEqual([created.data!.createSignal.id, createdJpy.data!.createSignal.id]);
    expect(usdJpy.items[0]!.signalEvents).toMatchObject({ kind: 'CREATED', signal: { id: createdJpy.data!.createSignal.id, symbol: 'USD_JPY', status: 'ACTIVE', user: { username: expect.any(String) } } });
    // Ids increase: a client can resume from the last one it saw.
    const [first, second] = all.items.map((event) => event.signalEvents.id);
    expect(first! < second! || first!.length < second!.length).toBe(true);
  });

  it('replays what a reconnecting client missed (after), then goes on live, without duplicates', async () => {
    const client = wsClient(gateway);
    clients.push(client);
    const first = collect<SignalEventData>(client, SIGNAL_EVENTS, { symbols: ['AUD_USD'] });
    await eventuallyPasses(() => expect(gateway.gateway.live?.hub.size.subscriptions).toBe(1), 3_000);
    await gateway.graphql(CREATE, newSignal('AUD_USD'), TEST_ADMIN_TOKEN);
    await eventuallyPasses(() => expect(first.items).toHaveLength(1), 5_000);
    const lastSeen = first.items[0]!.signalEvents.id;
    first.stop();
    // Missed while away:
    const missedA = await gateway.graphql<{ createSignal: { id: number } }>(CREATE, newSignal('AUD_USD'), TEST_ADMIN_TOKEN);
    const missedB = await gateway.graphql<{ createSignal: { id: number } }>(CREATE, newSignal('AUD_USD'), TEST_ADMIN_TOKEN);
    const resumed = collect<SignalEventData>(client, SIGNAL_EVENTS, { symbols: ['AUD_USD'], after: lastSeen });
    await eventuallyPasses(() => expect(resumed.items).toHaveLength(2), 5_000);
    const live = await gateway.graphql<{ createSignal: { id: number } }>(CREATE, newSignal('AUD_USD'), TEST_ADMIN_TOKEN);
    await eventuallyPasses(() => expect(resumed.items).toHaveLength(3), 5_000);
    expect(resumed.items.map((event) => event.signalEvents.signal?.id)).toEqual([missedA.data!.createSignal.id, missedB.data!.createSignal.id, live.data!.createSignal.id]);
  });

  it('says "gap" to a client whose last event is older than the replay window', async () => {
    const client = wsClient(gateway);
    clients.push(client);
    const stale = collect<SignalEventData>(client, SIGNAL_EVENTS, { after: `${Date.now() - 3_600_000}-0` });
    await eventuallyPasses(() => expect(stale.items).toHaveLength(1), 5_000);
    expect(stale.items[0]!.signalEvents).toMatchObject({ kind: 'GAP', signal: null, message: expect.stringContaining('older than the replay window') });
  });

  it('streams over SSE with the graphql-sse client, and resumes from Last-Event-ID', async () => {
    const sse = createSseClient({ url: `${gateway.url}/graphql/stream`, retryAttempts: 0 });
    const events = collect<SignalEventData>(sse, SIGNAL_EVENTS, { symbols: ['USD_CHF'] });
    const ticks = collect<Tick>(sse, PRICES, { symbols: ['USD_CHF'] });
    await eventuallyPasses(() => expect(ticks.items.length).toBeGreaterThan(0), 5_000);
    await gateway.graphql(CREATE, newSignal('USD_CHF'), TEST_ADMIN_TOKEN);
    await eventuallyPasses(() => expect(events.items).toHaveLength(1), 5_000);
    events.stop();
    ticks.stop();
    sse.dispose();

    // A raw EventSource-style reconnect: the header names the last event seen.
    const missed = await gateway.graphql<{ createSignal: { id: number } }>(CREATE, newSignal('USD_CHF'), TEST_ADMIN_TOKEN);
    const abort = new AbortController();
    const response = await fetch(`${gateway.url}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'last-event-id': events.items[0]!.signalEvents.id },
      body: JSON.stringify({ query: SIGNAL_EVENTS, variables: { symbols: ['USD_CHF'] } }),
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    await eventuallyPasses(async () => {
      const { value } = (await reader.read()) as { value?: Uint8Array };
      text += new TextDecoder().decode(value);
      expect(text).toContain(`"id":${missed.data!.createSignal.id}`);
    }, 5_000);
    expect(text).toMatch(/^id: \d+-\d+\nevent: next\ndata: /m);
    abort.abort();
  });

  it('refuses bad credentials, a late connection_init, a foreign origin, and closes a socket whose session ends', async () => {
    const closeOf = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    const url = `${gateway.url.replace('http', 'ws')}/graphql`;

    const badToken = new WebSocket(url, 'graphql-transport-ws');
    await new Promise((resolve) => badToken.once('open', resolve));
    badToken.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-session' } }));
    expect(await closeOf(badToken)).toMatchObject({ code: 4403 });

    const silent = new WebSocket(url, 'graphql-transport-ws');
    expect(await closeOf(silent)).toMatchObject({ code: 4408, reason: 'Connection initialisation timeout' });

    const foreign = new WebSocket(url, 'graphql-transport-ws', { origin: 'https://evil.example' });
    const refused = await new Promise<number>((resolve) => foreign.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)));
    expect(refused).toBe(403);

    const noProtocol = new WebSocket(url);
    expect(await closeOf(noProtocol)).toMatchObject({ code: 4406 });

    // Subscribing before the ack is unauthorised.
    const early = new WebSocket(url, 'graphql-transport-ws');
    await new Promise((resolve) => early.once('open', resolve));
    early.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: PRICES, variables: { symbols: ['EUR_USD'] } } }));
    expect(await closeOf(early)).toMatchObject({ code: 4401 });

    // A session revoked while its socket is open: closed with 4403 within the recheck interval.
    const token = 'demo-carol-session-token';
    const session = new WebSocket(url, 'graphql-transport-ws');
    await new Promise((resolve) => session.once('open', resolve));
    session.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => session.once('message', resolve));
    const closed = closeOf(session);
    await gateway.graphql('mutation { logout }', {}, token);
    expect(await closed).toMatchObject({ code: 4403 });
  });

  it('runs codegen’s typed subscription, and a persisted one by its documentId over SSE GET', async () => {
    const client = wsClient(gateway);
    clients.push(client);
    const typed = collect<Tick>(client, print(LiveQuotesDocument), { symbols: ['NZD_USD'] });
    await eventuallyPasses(() => expect(typed.items.length).toBeGreaterThan(0), 5_000);
    expect(typed.items[0]!.prices).toMatchObject({ symbol: 'NZD_USD', bid: expect.any(Number), mid: expect.any(Number) });

    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
    const id = Object.keys(manifest).find((hash) => manifest[hash]!.includes('subscription LiveQuotes'))!;
    const abort = new AbortController();
    const response = await fetch(`${gateway.url}/graphql/stream?documentId=sha256:${id}&variables=${encodeURIComponent(JSON.stringify({ symbols: ['NZD_USD'] }))}`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    await eventuallyPasses(async () => {
      const { value } = (await reader.read()) as { value?: Uint8Array };
      text += new TextDecoder().decode(value);
      expect(text).toContain('"symbol":"NZD_USD"');
    }, 5_000);
    abort.abort();
  });

  it('refuses a subscription sent to the query endpoint with 400 and where to send it, nothing run and nothing logged as an error', async () => {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
    const id = Object.keys(manifest).find((hash) => manifest[hash]!.includes('subscription LiveQuotes'))!;
    // What Apollo Client's HttpLink sends for a subscription when no split link routes it elsewhere.
    const headers = { 'content-type': 'application/json', accept: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json' };
    const bodies = [
      { query: PRICES, variables: { symbols: ['EUR_USD'] } },
      { query: 'subscription { signalEvents { __typename } }' },
      { documentId: `sha256:${id}`, variables: { symbols: ['EUR_USD'] } },
    ];
    const errorLogsBefore = logs.filter((line) => (line.level as number) >= 50).length;
    const calls = gateway.dataSourceCalls();
    // Twice each: the repeat is the hit front's (it remembers the request's bytes).
    for (const body of [...bodies, ...bodies]) {
      const response = await fetch(`${gateway.url}/graphql`, { method: 'POST', headers, body: JSON.stringify(body) });
      expect([response.status, await response.json()]).toEqual([
        400,
        { errors: [{ message: 'Subscriptions are not served over HTTP POST: use graphql-ws (WebSocket) at /graphql, or SSE (graphql-sse) at /graphql/stream', extensions: { code: 'BAD_REQUEST' } }] },
      ]);
    }
    const get = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent('subscription { signalEvents { __typename } }')}`, { headers: { 'apollo-require-preflight': '1' } });
    expect(get.status).toBe(405);
    expect(gateway.dataSourceCalls()).toBe(calls);
    expect(logs.filter((line) => (line.level as number) >= 50).length).toBe(errorLogsBefore);
  });

  it('refuses a bad argument or a query with a clear error, and accepts a user session', async () => {
    const client = wsClient(gateway, ALICE);
    clients.push(client);
    const bad = collect<Tick>(client, PRICES, { symbols: ['eurusd'] });
    await eventuallyPasses(() => expect(bad.done).toBe(true), 3_000);
    expect(JSON.stringify(bad.errors)).toContain('BAD_USER_INPUT');
    const query = collect<unknown>(client, '{ price(symbol: "EUR_USD") { bid } }');
    await eventuallyPasses(() => expect(query.done).toBe(true), 3_000);
    expect(JSON.stringify(query.errors)).toContain('Only subscriptions are served here');
  });

  // Last: it stops the gateway.
  it('ends open WebSockets (1001) and SSE streams when the gateway stops, so that it can stop', async () => {
    const url = `${gateway.url.replace('http', 'ws')}/graphql`;
    const socket = new WebSocket(url, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: PRICES, variables: { symbols: ['EUR_USD'] } } }));
    const socketClosed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const response = await fetch(`${gateway.url}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify({ query: PRICES, variables: { symbols: ['EUR_USD'] } }),
    });
    const streamed = response.text();
    const started = Date.now();
    await gateway.close();
    closed = true;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await socketClosed).toBe(1001);
    expect(await streamed).toMatch(/event: complete\ndata:\n\n$/);
  });
});

describe('an SSE client that leaves before its stream starts', () => {
  let gateway: TestGateway;
  /** How long the gateway takes before the SSE handler runs: the time a session lookup, a rate-limit charge in Redis or a persisted-document lookup can take. */
  let latencyMs = 0;

  beforeAll(async () => {
    gateway = await startTestGateway({ SUBSCRIPTION_MAX_CONNECTIONS_PER_VIEWER: '2', MARKET_STREAM_LEASE_MS: '500' }, {
      beforeListen: (g) =>
        g.http.addHook('preHandler', async (request) => {
          if (request.url.startsWith('/graphql/stream') && latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
        }),
    });
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
  });

  const open = (signal: AbortSignal) =>
    fetch(`${gateway.url}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${ALICE}` },
      body: JSON.stringify({ query: PRICES, variables: { symbols: ['GBP_JPY'] } }),
      signal,
    });

  it('holds no subscription, no instrument of the stream and no connection slot of its viewer', async () => {
    latencyMs = 300;
    for (let i = 0; i < 3; i += 1) {
      const abort = new AbortController();
      const response = open(abort.signal).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      abort.abort();
      await response;
    }
    latencyMs = 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(gateway.gateway.live!.hub.size.subscriptions).toBe(0);
    await eventuallyPasses(() => expect(gateway.gateway.live!.stream().instruments).not.toContain('GBP_JPY'), 5_000);
    // More clients came and went than the viewer may hold at once: none of them still counts.
    const abort = new AbortController();
    const response = await open(abort.signal);
    expect(response.status).toBe(200);
    await eventuallyPasses(() => expect(gateway.gateway.live!.hub.size.subscriptions).toBe(1), 3_000);
    abort.abort();
    await eventuallyPasses(() => expect(gateway.gateway.live!.hub.size.subscriptions).toBe(0), 3_000);
  });
});

describe('the cost of a subscription whose sizes come in variables', () => {
  let gateway: TestGateway;
  const ticks = 'subscription Ticks($symbols: [String!]!) { prices(symbols: $symbols) { symbol bid ask mid spread time } }';
  const open = (symbols: readonly string[], signal: AbortSignal) =>
    fetch(`${gateway.url}/graphql/stream`, { method: 'POST', headers: { accept: 'text/event-stream', 'content-type': 'application/json' }, body: JSON.stringify({ query: ticks, variables: { symbols } }), signal });

  beforeAll(async () => {
    // 1 + 6 per instrument: three fit, four do not.
    gateway = await startTestGateway({ GRAPHQL_MAX_COST: '20' });
  });
  afterAll(async () => {
    await gateway.close();
  });

  it('is judged with the list as sent: a longer list is refused before anything is subscribed, a shorter one streams', async () => {
    const abort = new AbortController();
    try {
      const refused = await open(['EUR_USD', 'GBP_USD', 'USD_JPY', 'AUD_USD'], abort.signal);
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ errors: [expect.objectContaining({ message: expect.stringMatching(/Query is too costly/), extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'cost' }) })] });
      expect(gateway.gateway.live!.hub.size.subscriptions).toBe(0);
      const streaming = await open(['EUR_USD', 'GBP_USD', 'USD_JPY'], abort.signal);
      expect(streaming.status).toBe(200);
      expect(streaming.headers.get('content-type')).toMatch(/^text\/event-stream/);
    } finally {
      abort.abort();
    }
  });
});

describe('a price read while a tick is being applied', () => {
  let gateway: TestGateway;
  const PRICE = 'query($s: String!) { price(symbol: $s) { symbol time } }';
  const priceTime = async (symbol: string) => Date.parse((await gateway.graphql<{ price: { time: string } }>(PRICE, { s: symbol })).data!.price.time);

  beforeAll(async () => {
    // Ticks half a second apart: the next tick's eviction cannot hide a response kept from the window.
    gateway = await startTestGateway({ MARKET_SIM_TICKS_PER_SECOND: '2' });
  }, 60_000);
  afterAll(async () => {
    await gateway.close();
  });

  it('is not kept: once the tick is sent, price shows it', async () => {
    const symbol = 'USD_CAD';
    let armed = false;
    let windowRead: Promise<number> | undefined;
    gateway.gateway.cache.service.onInvalidated(async (invalidation) => {
      if (!armed || !JSON.stringify(invalidation).includes(`"Market:${symbol}"`)) return;
      armed = false;
      // Between the tick's eviction and its write, as any reader on any instance may be.
      windowRead = priceTime(symbol);
      await windowRead;
    });
    const client = wsClient(gateway);
    const newer = new Promise<number>((resolve) => {
      client.subscribe<Tick>({ query: PRICES, variables: { symbols: [symbol] } }, {
        next: (value) => {
          const time = Date.parse(value.data!.prices.time);
          if (windowRead === undefined) {
            armed = true;
            return;
          }
          void windowRead.then((read) => {
            if (time > read) resolve(time);
          });
        },
        error: () => undefined,
        complete: () => undefined,
      });
    });
    try {
      const sent = await newer;
      expect(await priceTime(symbol)).toBeGreaterThanOrEqual(sent);
    } finally {
      await client.dispose();
    }
  });
});
