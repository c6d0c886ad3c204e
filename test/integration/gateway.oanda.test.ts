import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

import { DEMO_INSTRUMENTS } from '../../src/market/instruments';
import { eventuallyPasses } from '../helpers/eventually';
import { candlesBody, FakeOanda, pricingBody } from '../helpers/fake-oanda';
import { FakeOandaStream } from '../helpers/fake-oanda-stream';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

describe('the gateway with the OANDA provider', () => {
  let broker: FakeOanda;
  let gateway: TestGateway;

  beforeAll(async () => {
    broker = await FakeOanda.start();
    gateway = await startTestGateway({
      MARKET_DATA_PROVIDER: 'oanda',
      OANDA_API_URL: broker.url,
      OANDA_API_TOKEN: 'practice-token',
      OANDA_ACCOUNT_ID: '101-004-7',
      MARKET_DATA_TIMEOUT_MS: '300',
      MARKET_DATA_MAX_RETRIES: '1',
      MARKET_DATA_RETRY_BASE_MS: '5',
    });
  }, 60_000);

  // Each case scripts the broker afresh; quotes cached by an earlier case would hide it.
  beforeEach(() => gateway.gateway.cache.invalidator.invalidateMarketCache());

  afterAll(async () => {
    await gateway.close();
    await broker.close();
  });

  it("prices many signals' instruments with one pricing call", async () => {
    broker.script({ status: 200, body: pricingBody(['EUR_USD', '1.08501', '1.08513'], ['GBP_USD', '1.27101', '1.27115']) });
    const result = await gateway.graphql<{ latestSignals: { symbol: string; currentPrice: { bid: number; spread: number } }[] }>(
      '{ latestSignals(symbols: ["EUR_USD", "GBP_USD"], perSymbol: 10) { symbol currentPrice { bid spread } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.latestSignals).toHaveLength(20);
    expect(result.data!.latestSignals.find((s) => s.symbol === 'GBP_USD')?.currentPrice).toEqual({ bid: 1.27101, spread: 0.00014 });
    expect(broker.seen.map((r) => r.url)).toEqual(['/v3/accounts/101-004-7/pricing?instruments=EUR_USD,GBP_USD']);
  });

  it('serves H1 candles from the broker', async () => {
    broker.script({ status: 200, body: candlesBody('EUR_USD', 'H1') });
    const result = await gateway.graphql<{ candles: { open: number; complete: boolean }[] }>('{ candles(symbol: "EUR_USD", timeframe: H1, count: 2) { open complete } }');
    expect(result.data).toEqual({ candles: [{ open: 1.085, complete: true }, { open: 1.0859, complete: false }] });
  });

  it('still answers the signals when the broker is down, with a clear error on the prices only', async () => {
    broker.script({ status: 503, body: {} });
    const result = await gateway.graphql<{ signals: { id: number; currentPrice: null }[] }>('{ signals(symbol: "EUR_USD", limit: 3) { id currentPrice { bid } } }');
    expect(result.data!.signals).toHaveLength(3);
    expect(result.data!.signals.every((s) => s.currentPrice === null)).toBe(true);
    expect(result.errors).toHaveLength(3);
    expect(result.errors![0]).toMatchObject({ message: 'Market data is temporarily unavailable', extensions: { code: 'UPSTREAM_UNAVAILABLE' } });
    expect(JSON.stringify(result.errors)).not.toContain('503');
  });

  it('times out a silent broker within the configured bound', async () => {
    broker.script({ hangMs: 10_000 });
    const started = Date.now();
    const result = await gateway.graphql('{ price(symbol: "EUR_USD") { bid } }');
    expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

/**
 * OANDA refuses a whole request (400) when one instrument in it is one it does not list. A
 * well-formed instrument the gateway does not serve never reaches it, and a request it refuses
 * anyway is the request's fault, not the broker's: neither may stop prices for everyone else.
 */
describe('the gateway with OANDA, given an instrument it does not serve', () => {
  /** The gateway serves EUR_GBP but this account's broker does not list it: the broker refuses it. */
  const BROKER_LISTS = DEMO_INSTRUMENTS.map((instrument) => instrument.symbol).filter((symbol) => symbol !== 'EUR_GBP');
  let broker: FakeOandaStream;
  let gateway: TestGateway;
  const clients: Client[] = [];
  const ws = () => {
    const client = createClient({ url: `${gateway.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    clients.push(client);
    return client;
  };
  const subscribe = (client: Client, query: string) => {
    const got = { ticks: [] as string[], errors: [] as unknown[] };
    client.subscribe<{ prices: { symbol: string } }>(
      { query },
      {
        next: (value) => {
          if (value.errors !== undefined) got.errors.push(...value.errors);
          if (value.data?.prices !== undefined) got.ticks.push(value.data.prices.symbol);
        },
        error: (error) => got.errors.push(error),
        complete: () => undefined,
      },
    );
    return got;
  };
  const brokerSawZzz = () => broker.seen.some((url) => url.includes('ZZZ_ZZZ'));

  beforeAll(async () => {
    broker = await FakeOandaStream.start(100, BROKER_LISTS);
    gateway = await startTestGateway({
      MARKET_DATA_PROVIDER: 'oanda',
      OANDA_API_URL: broker.url,
      OANDA_STREAM_URL: broker.url,
      OANDA_API_TOKEN: 'practice-token',
      OANDA_ACCOUNT_ID: '101-004-7',
      MARKET_DATA_MAX_RETRIES: '0',
      MARKET_STALE_IF_ERROR_SECONDS: '0',
      MARKET_BREAKER_FAILURE_THRESHOLD: '3',
      MARKET_STREAM_LEASE_MS: '600',
    });
  }, 60_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map(async (client) => client.dispose()));
  });

  afterAll(async () => {
    await gateway.close();
    await broker.close();
  });

  it('answers price null, a null item in prices and candles NOT_FOUND without asking the broker; the circuit stays closed however often', async () => {
    for (let i = 0; i < 5; i += 1) {
      await gateway.gateway.cache.invalidator.invalidateMarketCache();
      expect(await gateway.graphql('{ price(symbol: "ZZZ_ZZZ") { bid } }')).toEqual({ status: 200, data: { price: null } });
    }
    const prices = await gateway.graphql<{ prices: ({ symbol: string } | null)[] }>('{ prices(symbols: ["EUR_USD", "ZZZ_ZZZ"]) { symbol } }');
    expect(prices.errors).toBeUndefined();
    expect(prices.data).toEqual({ prices: [{ symbol: 'EUR_USD' }, null] });
    const candles = await gateway.graphql('{ candles(symbol: "ZZZ_ZZZ", timeframe: H1) { open } }');
    expect(candles.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(brokerSawZzz()).toBe(false);
    await gateway.gateway.cache.invalidator.invalidateMarketCache();
    expect((await gateway.graphql<{ price: { symbol: string } | null }>('{ price(symbol: "GBP_USD") { symbol } }')).data).toEqual({ price: { symbol: 'GBP_USD' } });
  });

  it('fails a request the broker refuses (400) on its own: however many, the circuit stays closed for the rest', async () => {
    for (let i = 0; i < 5; i += 1) {
      await gateway.gateway.cache.invalidator.invalidateMarketCache();
      const refused = await gateway.graphql('{ price(symbol: "EUR_GBP") { bid } }');
      expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    }
    await gateway.gateway.cache.invalidator.invalidateMarketCache();
    const other = await gateway.graphql<{ price: { symbol: string } | null }>('{ price(symbol: "USD_JPY") { symbol } }');
    expect(other.errors).toBeUndefined();
    expect(other.data).toEqual({ price: { symbol: 'USD_JPY' } });
  });

  it('refuses a subscription to it with BAD_USER_INPUT, and the stream goes on carrying the others', async () => {
    const live = subscribe(ws(), 'subscription { prices(symbols: ["EUR_USD"]) { symbol } }');
    await eventuallyPasses(() => expect(live.ticks.length).toBeGreaterThan(0), 5_000);
    const refused = subscribe(ws(), 'subscription { prices(symbols: ["GBP_USD", "ZZZ_ZZZ"]) { symbol } }');
    const bars = ws();
    const refusedBars: unknown[] = [];
    bars.subscribe({ query: 'subscription { candles(symbol: "ZZZ_ZZZ", timeframe: M1) { symbol } }' }, { next: (value) => refusedBars.push(...(value.errors ?? [])), error: (error) => refusedBars.push(error), complete: () => undefined });
    await eventuallyPasses(() => expect(JSON.stringify(refused.errors)).toContain('ZZZ_ZZZ is not an instrument the market-data feed lists'), 3_000);
    await eventuallyPasses(() => expect(JSON.stringify(refusedBars)).toContain('BAD_USER_INPUT'), 3_000);
    expect(JSON.stringify(refused.errors)).toContain('BAD_USER_INPUT');
    const before = live.ticks.length;
    await eventuallyPasses(() => expect(live.ticks.length).toBeGreaterThan(before + 5), 3_000);
    expect(gateway.gateway.live!.stream().instruments).toEqual(['EUR_USD']);
    expect(brokerSawZzz()).toBe(false);
  });

  it("leaves it out of the stream when another instance has put it in the fleet's wanted list", async () => {
    const { cache } = gateway.gateway;
    await cache.connections.pick().zadd(cache.keys.live('wanted'), Date.now() + 60_000, 'ZZZ_ZZZ');
    const live = subscribe(ws(), 'subscription { prices(symbols: ["EUR_USD"]) { symbol } }');
    await eventuallyPasses(() => expect(live.ticks.length).toBeGreaterThan(0), 5_000);
    // Past a few renewals, each of which read the wanted list.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = live.ticks.length;
    await eventuallyPasses(() => expect(live.ticks.length).toBeGreaterThan(before + 5), 3_000);
    expect(gateway.gateway.live!.stream().instruments).toEqual(['EUR_USD']);
    expect(brokerSawZzz()).toBe(false);
  });
});
