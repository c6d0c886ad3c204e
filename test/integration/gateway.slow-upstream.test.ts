import { CacheTags } from '../../src/cache/cache-tags';
import type { MarketDataReport } from '../../src/market/market.service';
import { eventually } from '../helpers/eventually';
import { candlesBody, FakeOanda, pricingBody } from '../helpers/fake-oanda';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

const STALE_AFTER_MS = 200;
const TIMEOUT_MS = 1_500;
const MAX_RETRIES = 2;
const ATTEMPTS = MAX_RETRIES + 1;
const FAILURE_THRESHOLD = 5;
/**
 * Bound on a stale answer at the deadline: generous for a busy 2-core machine, and still far
 * below the ATTEMPTS × TIMEOUT_MS (4.5 s) that a hanging broker costs a request without it.
 */
const ANSWER_BOUND_MS = 2_000;

const PRICE = '{ price(symbol: "EUR_USD") { bid ask } }';
const CANDLES = '{ candles(symbol: "EUR_USD", timeframe: H1, count: 2) { open complete } }';
const EUR_USD = pricingBody(['EUR_USD', '1.08501', '1.08513']);
/** Accepts the connection and never answers (within the test). */
const HANG = { hangMs: 30_000 };
const BROKER_DOWN = { status: 503, body: {} };
const CLOCK_MS = Date.now();

interface Answer {
  readonly ms: number;
  readonly headers: Headers;
  readonly body: { data?: Record<string, unknown> | null; errors?: { path?: unknown[]; extensions?: { code?: string } }[]; extensions?: unknown };
}

/** Latencies seen, printed with UPSTREAM_FIGURES=1 (RELIABILITY.md, "Upstream faults"). */
const figures = { hangingBrokerStaleMs: [] as number[], breakerOpenStaleMs: [] as number[] };

describe('a slow market-data provider: stale answers at MARKET_STALE_AFTER_MS, the load going on in the background', () => {
  let broker: FakeOanda;
  let gw: TestGateway;

  beforeAll(async () => {
    broker = await FakeOanda.start();
    gw = await startTestGateway(
      {
        MARKET_DATA_PROVIDER: 'oanda',
        OANDA_API_URL: broker.url,
        OANDA_API_TOKEN: 'practice-token',
        OANDA_ACCOUNT_ID: '101-004-7',
        MARKET_DATA_TIMEOUT_MS: String(TIMEOUT_MS),
        MARKET_DATA_MAX_RETRIES: String(MAX_RETRIES),
        MARKET_DATA_RETRY_BASE_MS: '5',
        MARKET_STALE_AFTER_MS: String(STALE_AFTER_MS),
        MARKET_STALE_IF_ERROR_SECONDS: '300',
        MARKET_BREAKER_FAILURE_THRESHOLD: String(FAILURE_THRESHOLD),
        MARKET_BREAKER_OPEN_MS: '10000',
      },
      // The market-data clock stands still: ages read 0 however slow the machine, and an open
      // breaker stays open (its cooldown is not what this suite is about).
      { now: () => CLOCK_MS },
    );
  }, 60_000);

  // Fresh entries, last-known copies and cached responses all go: each case starts cold.
  beforeEach(() => gw.gateway.cache.invalidator.invalidateMarketCache());

  afterAll(async () => {
    await gw.close();
    await broker.close();
    if (process.env.UPSTREAM_FIGURES !== undefined) {
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
      process.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(figures).map(([name, values]) => [name, { n: values.length, median: median(values), max: Math.max(...values) }])))}\n`);
    }
  });

  async function timed(query: string): Promise<Answer> {
    const started = performance.now();
    const response = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const body = (await response.json()) as Answer['body'];
    return { ms: performance.now() - started, headers: response.headers, body };
  }

  /** Loads `query` from a healthy broker, then drops the fresh entries as TTL expiry would: the last-known copies stay. */
  async function primed(query: string, reply: unknown, ...series: string[]): Promise<void> {
    broker.script({ status: 200, body: reply });
    expect((await gw.graphql(query)).errors).toBeUndefined();
    const { service, keys } = gw.gateway.cache;
    await service.delete(...['price', ...series].map((part) => keys.market('EUR_USD', part)));
    await service.deleteTagged([CacheTags.market('EUR_USD')]);
  }

  async function market(): Promise<MarketDataReport> {
    return ((await (await fetch(`${gw.url}/cache/metrics`)).json()) as { market_data: MarketDataReport }).market_data;
  }

  async function metric(name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}} `));
    return Number(line?.split(' ')[1] ?? NaN);
  }

  const served = () => metric('gateway_market_stale_total', 'provider="oanda",outcome="served"');
  const servedSlow = () => metric('gateway_market_stale_slow_upstream_total', 'provider="oanda"');

  it('answers from the last-known quote at the deadline while the broker hangs; concurrent requests share the one provider call, whose failure the breaker counts', async () => {
    await primed(PRICE, EUR_USD);
    broker.script(HANG);
    const [servedBefore, slowBefore] = [await served(), await servedSlow()];

    // Distinct texts, so that the response cache's own single flight does not merge them.
    const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => timed(`{ q${i}: price(symbol: "EUR_USD") { bid ask } }`)));
    answers.forEach((answer, index) => {
      expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(answer.body).toEqual({
        data: { [`q${index + 1}`]: { bid: 1.08501, ask: 1.08513 } },
        extensions: { stale: [{ path: [`q${index + 1}`], ageSeconds: 0, reason: 'slow_upstream' }] },
      });
      expect(answer.headers.get('x-cache')).toBe('BYPASS');
    });
    // A request arriving while that call still hangs joins it rather than starting another.
    const later = await timed(PRICE);
    expect(later.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(later.body.extensions).toEqual({ stale: [{ path: ['price'], ageSeconds: 0, reason: 'slow_upstream' }] });
    figures.hangingBrokerStaleMs.push(...[...answers, later].map((answer) => Math.round(answer.ms)));
    expect(broker.seen).toHaveLength(1);
    expect(await served()).toBe(servedBefore + 6);
    expect(await servedSlow()).toBe(slowBefore + 6);

    // The call goes on unobserved through all its attempts, and its failure reaches the breaker
    // once; jest would fail this case on an unhandled rejection raised meanwhile.
    await eventually(async () => (await market()).breaker.consecutive_failures === 1, ATTEMPTS * TIMEOUT_MS + 3_000);
    expect(broker.seen).toHaveLength(ATTEMPTS);
    expect((await market()).breaker.state).toBe('closed');
  }, 20_000);

  it('a quote: once the slow broker does answer, the next request is fresh, without another provider call', async () => {
    await primed(PRICE, EUR_USD);
    broker.script({ status: 200, body: pricingBody(['EUR_USD', '1.08601', '1.08613']), delayMs: 800 });

    const slow = await timed(PRICE);
    expect(slow.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(slow.body).toEqual({ data: { price: { bid: 1.08501, ask: 1.08513 } }, extensions: { stale: [{ path: ['price'], ageSeconds: 0, reason: 'slow_upstream' }] } });

    // The background load writes its result to the cache as any load does.
    const { service, keys } = gw.gateway.cache;
    await eventually(async () => (await service.get(keys.market('EUR_USD', 'price'))) !== undefined, 5_000);
    expect(await gw.graphql(PRICE)).toEqual({ status: 200, data: { price: { bid: 1.08601, ask: 1.08613 } } });
    expect(broker.seen).toHaveLength(1);
    expect((await market()).breaker.consecutive_failures).toBe(0);
  });

  it('candles: stale at the deadline, shared by concurrent requests, fresh once the slow broker answered', async () => {
    const older = candlesBody('EUR_USD', 'H1');
    await primed(CANDLES, older, 'H1:2');
    const newer = candlesBody('EUR_USD', 'H1');
    newer.candles[0]!.mid.o = '1.08700';
    broker.script({ status: 200, body: newer, delayMs: 800 });

    const answers = await Promise.all([1, 2].map((i) => timed(`{ c${i}: candles(symbol: "EUR_USD", timeframe: H1, count: 2) { open complete } }`)));
    answers.forEach((answer, index) => {
      expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(answer.body).toEqual({
        data: { [`c${index + 1}`]: [{ open: 1.085, complete: true }, { open: 1.0859, complete: false }] },
        extensions: { stale: [{ path: [`c${index + 1}`], ageSeconds: 0, reason: 'slow_upstream' }] },
      });
    });
    expect(broker.seen).toHaveLength(1);

    const { service, keys } = gw.gateway.cache;
    await eventually(async () => (await service.get(keys.market('EUR_USD', 'H1:2'))) !== undefined, 5_000);
    const fresh = await gw.graphql(CANDLES);
    expect(fresh).toEqual({ status: 200, data: { candles: [{ open: 1.087, complete: true }, { open: 1.0859, complete: false }] } });
    expect(broker.seen).toHaveLength(1);
  });

  it('without a usable last-known copy, a request waits for the provider as before and gets UPSTREAM_UNAVAILABLE; a batch waits as a whole', async () => {
    await primed(PRICE, EUR_USD);
    broker.script(HANG);
    const [servedBefore, slowBefore] = [await served(), await servedSlow()];
    const absentBefore = await metric('gateway_market_stale_total', 'provider="oanda",outcome="refused_absent"');

    const [alone, batch] = await Promise.all([timed('{ price(symbol: "GBP_USD") { bid } }'), timed('{ prices(symbols: ["EUR_USD", "USD_JPY"]) { bid } }')]);
    // All attempts, as without the deadline (each attempt times out at TIMEOUT_MS).
    expect(alone.ms).toBeGreaterThan(ATTEMPTS * TIMEOUT_MS - 200);
    expect(alone.body.data).toEqual({ price: null });
    expect(alone.body.errors).toEqual([expect.objectContaining({ path: ['price'], extensions: { code: 'UPSTREAM_UNAVAILABLE' } })]);
    expect(alone.body.extensions).toBeUndefined();
    // USD_JPY has no copy, so EUR_USD's copy waits with it, and is then served for the failure.
    expect(batch.ms).toBeGreaterThan(ATTEMPTS * TIMEOUT_MS - 200);
    expect(batch.body.data).toEqual({ prices: [{ bid: 1.08501 }, null] });
    expect(batch.body.errors).toEqual([expect.objectContaining({ path: ['prices', 1], extensions: { code: 'UPSTREAM_UNAVAILABLE' } })]);
    expect(batch.body.extensions).toEqual({ stale: [{ path: ['prices', 0], ageSeconds: 0, reason: 'timeout' }] });

    expect(broker.seen).toHaveLength(2 * ATTEMPTS);
    // Each decision counted once: the look at the deadline counts nothing.
    expect(await metric('gateway_market_stale_total', 'provider="oanda",outcome="refused_absent"')).toBe(absentBefore + 2);
    expect(await served()).toBe(servedBefore + 1);
    expect(await servedSlow()).toBe(slowBefore);
  }, 20_000);

  it(`opens the breaker after ${FAILURE_THRESHOLD} failed calls (× ${ATTEMPTS} attempts); while open, stale answers come at once and none of 200 requests reaches the broker`, async () => {
    // The priming call succeeds, so the breaker starts from zero consecutive failures.
    await primed(PRICE, EUR_USD);
    broker.script(BROKER_DOWN);
    for (let call = 1; call <= FAILURE_THRESHOLD; call += 1) {
      const answer = await timed(PRICE);
      // Three quick 503s usually beat the deadline; on a slow machine the deadline may come first.
      expect(answer.body.extensions).toEqual({ stale: [{ path: ['price'], ageSeconds: 0, reason: expect.stringMatching(/^(upstream_error|slow_upstream)$/) as unknown }] });
      await eventually(async () => (await market()).breaker.consecutive_failures === call, 5_000);
    }
    expect(broker.seen).toHaveLength(FAILURE_THRESHOLD * ATTEMPTS);
    expect((await market()).breaker.state).toBe('open');

    const queue = Array.from({ length: 200 }, (_, i) => i);
    const answers: Answer[] = [];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (queue.shift() !== undefined) answers.push(await timed(PRICE));
      }),
    );
    expect(answers).toHaveLength(200);
    for (const answer of answers) {
      expect(answer.body.extensions).toEqual({ stale: [{ path: ['price'], ageSeconds: 0, reason: 'circuit_open' }] });
      expect(answer.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    figures.breakerOpenStaleMs.push(...answers.map((answer) => Math.round(answer.ms)));
    expect(broker.seen).toHaveLength(FAILURE_THRESHOLD * ATTEMPTS);
  });
});
