import { CacheTags } from '../../src/cache/cache-tags';
import { eventually } from '../helpers/eventually';
import { candlesBody, FakeOanda, pricingBody } from '../helpers/fake-oanda';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

const PRICE_TTL_SECONDS = 60;
const GRACE_SECONDS = 300;
const FAILURE_THRESHOLD = 3;
const OPEN_MS = 10_000;

const PRICE = '{ price(symbol: "EUR_USD") { bid ask } }';
const EUR_USD = pricingBody(['EUR_USD', '1.08501', '1.08513']);
const BROKER_DOWN = { status: 503, body: {} };

describe('stale-if-error and the circuit breaker, with the OANDA provider against a fake broker', () => {
  let broker: FakeOanda;
  let gw: TestGateway;
  /** The gateway's market-data clock: moved by the test, never waited for. */
  let nowMs = Date.now();
  const advance = (ms: number) => {
    nowMs += ms;
  };

  beforeAll(async () => {
    broker = await FakeOanda.start();
    gw = await startTestGateway(
      {
        MARKET_DATA_PROVIDER: 'oanda',
        OANDA_API_URL: broker.url,
        OANDA_API_TOKEN: 'practice-token',
        OANDA_ACCOUNT_ID: '101-004-7',
        MARKET_DATA_TIMEOUT_MS: '1000',
        // One HTTP request per provider call, so that the broker's request log counts calls.
        MARKET_DATA_MAX_RETRIES: '0',
        CACHE_TTL_PRICE: String(PRICE_TTL_SECONDS),
        MARKET_STALE_IF_ERROR_SECONDS: String(GRACE_SECONDS),
        MARKET_BREAKER_FAILURE_THRESHOLD: String(FAILURE_THRESHOLD),
        MARKET_BREAKER_OPEN_MS: String(OPEN_MS),
        // No stale answer at a deadline here: these cases are about what follows a failed call.
        // A slow provider is test/integration/gateway.slow-upstream.test.ts.
        MARKET_STALE_AFTER_MS: '0',
      },
      { now: () => nowMs },
    );
  }, 60_000);

  // Fresh entries, last-known copies and cached responses all go: each case starts cold.
  beforeEach(() => gw.gateway.cache.invalidator.invalidateMarketCache());

  afterAll(async () => {
    await gw.close();
    await broker.close();
  });

  /** What TTL expiry would do to the fresh entries, the cached responses showing them — and nothing else. */
  async function expireFreshCopies(symbol: string, ...series: string[]): Promise<void> {
    const { service, keys } = gw.gateway.cache;
    await service.delete(...['price', ...series].map((part) => keys.market(symbol, part)));
    await service.deleteTagged([CacheTags.market(symbol)]);
  }

  async function post(query: string): Promise<{ headers: Headers; body: { data?: unknown; errors?: { path?: unknown[]; extensions?: { code?: string } }[]; extensions?: unknown } }> {
    const response = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    return { headers: response.headers, body: (await response.json()) as never };
  }

  async function metric(name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}} `));
    return Number(line?.split(' ')[1] ?? NaN);
  }

  const stores = () => gw.gateway.responseCache!.metrics().stores;

  async function breakerState(): Promise<unknown> {
    const metrics = (await (await fetch(`${gw.url}/cache/metrics`)).json()) as { market_data: { breaker: { state: string } } };
    return metrics.market_data.breaker.state;
  }

  describe('stale-if-error', () => {
    it('serves the last known quote, marked in extensions, when the broker fails after the fresh copy expired; the answer is not cached', async () => {
      broker.script({ status: 200, body: EUR_USD });
      const fresh = await gw.graphql(PRICE);
      expect(fresh).toEqual({ status: 200, data: { price: { bid: 1.08501, ask: 1.08513 } } });

      await expireFreshCopies('EUR_USD');
      advance(90_000);
      broker.script(BROKER_DOWN);
      const servedBefore = await metric('gateway_market_stale_total', 'provider="oanda",outcome="served"');
      const storesBefore = stores();

      const stale = await post(PRICE);
      expect(stale.body).toEqual({
        data: { price: { bid: 1.08501, ask: 1.08513 } },
        extensions: { stale: [{ path: ['price'], ageSeconds: 90, reason: 'upstream_error' }] },
      });
      expect(broker.seen).toHaveLength(1);
      expect(stale.headers.get('x-cache')).toBe('BYPASS');
      expect(stale.headers.get('cache-control')).toBe('no-store');
      expect(stores()).toBe(storesBefore);
      expect(await metric('gateway_market_stale_total', 'provider="oanda",outcome="served"')).toBe(servedBefore + 1);

      // The broker is back: the same query is answered afresh, not from a stored stale answer.
      broker.script({ status: 200, body: pricingBody(['EUR_USD', '1.08601', '1.08613']) });
      expect(await gw.graphql(PRICE)).toEqual({ status: 200, data: { price: { bid: 1.08601, ask: 1.08613 } } });
      expect(broker.seen).toHaveLength(1);
    });

    it('decides per instrument: fresh entries as they are, last-known copies marked by path, UPSTREAM_UNAVAILABLE where there is none', async () => {
      broker.script({ status: 200, body: pricingBody(['EUR_USD', '1.08501', '1.08513'], ['GBP_USD', '1.27101', '1.27115']) });
      await gw.graphql('{ prices(symbols: ["EUR_USD", "GBP_USD"]) { bid } }');
      await gw.gateway.cache.service.delete(gw.gateway.cache.keys.market('GBP_USD', 'price'));
      advance(30_000);
      broker.script(BROKER_DOWN);
      const absentBefore = await metric('gateway_market_stale_total', 'provider="oanda",outcome="refused_absent"');

      const result = await gw.graphql<{ prices: ({ symbol: string; bid: number } | null)[] }>('{ prices(symbols: ["EUR_USD", "GBP_USD", "USD_JPY"]) { symbol bid } }');
      expect(result.data!.prices).toEqual([{ symbol: 'EUR_USD', bid: 1.08501 }, { symbol: 'GBP_USD', bid: 1.27101 }, null]);
      expect(result.extensions).toEqual({ stale: [{ path: ['prices', 1], ageSeconds: 30, reason: 'upstream_error' }] });
      expect(result.errors).toEqual([expect.objectContaining({ path: ['prices', 2], extensions: { code: 'UPSTREAM_UNAVAILABLE' } })]);
      expect(await metric('gateway_market_stale_total', 'provider="oanda",outcome="refused_absent"')).toBe(absentBefore + 1);
    });

    it('marks every field that shows a stale quote, such as the current price of each signal', async () => {
      broker.script({ status: 200, body: EUR_USD });
      await gw.graphql(PRICE);
      await expireFreshCopies('EUR_USD');
      advance(5_000);
      broker.script(BROKER_DOWN);

      const result = await gw.graphql<{ signals: { currentPrice: { bid: number } }[] }>('{ signals(symbol: "EUR_USD", limit: 2) { currentPrice { bid } } }');
      expect(result.errors).toBeUndefined();
      expect(result.data!.signals).toEqual([{ currentPrice: { bid: 1.08501 } }, { currentPrice: { bid: 1.08501 } }]);
      expect(result.extensions).toEqual({
        stale: [
          { path: ['signals', 0, 'currentPrice'], ageSeconds: 5, reason: 'upstream_error' },
          { path: ['signals', 1, 'currentPrice'], ageSeconds: 5, reason: 'upstream_error' },
        ],
      });
    });

    it('serves the last known candles when the broker times out', async () => {
      const query = '{ candles(symbol: "EUR_USD", timeframe: H1, count: 2) { open complete } }';
      broker.script({ status: 200, body: candlesBody('EUR_USD', 'H1') });
      const fresh = await gw.graphql(query);
      expect(fresh.extensions).toBeUndefined();

      await expireFreshCopies('EUR_USD', 'H1:2');
      advance(10_000);
      broker.script({ hangMs: 10_000 });
      const stale = await gw.graphql(query);
      expect(stale.data).toEqual(fresh.data);
      expect(stale.errors).toBeUndefined();
      expect(stale.extensions).toEqual({ stale: [{ path: ['candles'], ageSeconds: 10, reason: 'timeout' }] });
    });

    it('refuses a last-known copy past the grace window: the client gets UPSTREAM_UNAVAILABLE', async () => {
      broker.script({ status: 200, body: EUR_USD });
      await gw.graphql(PRICE);
      await expireFreshCopies('EUR_USD');
      advance((PRICE_TTL_SECONDS + GRACE_SECONDS + 1) * 1000);
      broker.script(BROKER_DOWN);
      const tooOldBefore = await metric('gateway_market_stale_total', 'provider="oanda",outcome="refused_too_old"');

      const result = await gw.graphql(PRICE);
      expect(result.data).toEqual({ price: null });
      expect(result.errors).toEqual([expect.objectContaining({ message: 'Market data is temporarily unavailable', extensions: { code: 'UPSTREAM_UNAVAILABLE' } })]);
      expect(result.extensions).toBeUndefined();
      expect(await metric('gateway_market_stale_total', 'provider="oanda",outcome="refused_too_old"')).toBe(tooOldBefore + 1);
    });
  });

  describe('the circuit breaker', () => {
    it(`opens after ${FAILURE_THRESHOLD} failures, keeps the broker free of requests while open, probes once after the cooldown, and closes on recovery`, async () => {
      broker.script({ status: 200, body: EUR_USD });
      // script() starts the broker's request log afresh; this counts across the scripts of this case.
      let earlierRequests = 0;
      const script = (...replies: Parameters<FakeOanda['script']>) => {
        earlierRequests += broker.seen.length;
        broker.script(...replies);
      };
      const brokerRequests = () => earlierRequests + broker.seen.length;

      await gw.graphql(PRICE);
      await expireFreshCopies('EUR_USD');
      expect(await breakerState()).toBe('closed');

      // Closed: each failing call reaches the broker; the last-known quote answers meanwhile.
      script(BROKER_DOWN);
      for (let i = 0; i < FAILURE_THRESHOLD; i += 1) {
        expect((await gw.graphql(PRICE)).extensions).toEqual({ stale: [{ path: ['price'], ageSeconds: 0, reason: 'upstream_error' }] });
      }
      expect(brokerRequests()).toBe(1 + FAILURE_THRESHOLD);
      expect(await breakerState()).toBe('open');
      const opened = await metric('gateway_market_breaker_events_total', 'provider="oanda",event="opened"');
      const shortCircuited = await metric('gateway_market_breaker_events_total', 'provider="oanda",event="short_circuited"');

      // Open: nothing reaches the broker; stale where there is a copy, UPSTREAM_UNAVAILABLE where not.
      advance(OPEN_MS - 1);
      expect((await gw.graphql(PRICE)).extensions).toEqual({ stale: [{ path: ['price'], ageSeconds: 9, reason: 'circuit_open' }] });
      const candles = await gw.graphql('{ candles(symbol: "GBP_USD", timeframe: M5, count: 3) { open } }');
      expect(candles.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(brokerRequests()).toBe(1 + FAILURE_THRESHOLD);
      expect(await metric('gateway_market_breaker_state', 'provider="oanda",state="open"')).toBe(1);
      expect(await metric('gateway_market_breaker_state', 'provider="oanda",state="closed"')).toBe(0);
      expect(await metric('gateway_market_breaker_events_total', 'provider="oanda",event="short_circuited"')).toBe(shortCircuited + 2);

      // Half-open: one probe; it fails, so the circuit opens for another cooldown.
      advance(1);
      expect((await gw.graphql(PRICE)).extensions).toEqual({ stale: [{ path: ['price'], ageSeconds: 10, reason: 'upstream_error' }] });
      expect(brokerRequests()).toBe(1 + FAILURE_THRESHOLD + 1);
      expect((await gw.graphql(PRICE)).extensions).toMatchObject({ stale: [{ reason: 'circuit_open' }] });
      expect(brokerRequests()).toBe(1 + FAILURE_THRESHOLD + 1);

      // Half-open again: while the probe hangs, another request fails fast instead of joining the queue.
      advance(OPEN_MS);
      script({ hangMs: 10_000 });
      const probe = gw.graphql('{ price(symbol: "EUR_USD") { bid } }');
      await eventually(() => brokerRequests() === 1 + FAILURE_THRESHOLD + 2, 5_000);
      expect((await gw.graphql('{ price(symbol: "EUR_USD") { ask } }')).extensions).toMatchObject({ stale: [{ reason: 'circuit_open' }] });
      expect((await probe).extensions).toMatchObject({ stale: [{ reason: 'timeout' }] });
      expect(brokerRequests()).toBe(1 + FAILURE_THRESHOLD + 2);
      expect(await breakerState()).toBe('open');

      // Recovery: the next probe succeeds and closes the circuit; answers are fresh again.
      advance(OPEN_MS);
      script({ status: 200, body: pricingBody(['EUR_USD', '1.08701', '1.08713']) });
      expect(await gw.graphql(PRICE)).toEqual({ status: 200, data: { price: { bid: 1.08701, ask: 1.08713 } } });
      expect(brokerRequests()).toBe(1 + FAILURE_THRESHOLD + 3);
      expect(await breakerState()).toBe('closed');
      expect(await metric('gateway_market_breaker_state', 'provider="oanda",state="closed"')).toBe(1);
      expect(await metric('gateway_market_breaker_events_total', 'provider="oanda",event="opened"')).toBe(opened + 2);
    });
  });
});
