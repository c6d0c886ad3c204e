import { isUpstreamFault, UpstreamError, UpstreamStats } from '../../src/market/market-data.provider';
import { OandaMarketDataProvider } from '../../src/market/oanda.provider';
import { candlesBody, FakeOanda, pricingBody } from '../helpers/fake-oanda';

describe('the OANDA v20 provider against a local fake broker', () => {
  let broker: FakeOanda;
  let stats: UpstreamStats;
  let provider: OandaMarketDataProvider;

  beforeAll(async () => {
    broker = await FakeOanda.start();
  });
  afterAll(() => broker.close());

  beforeEach(() => {
    stats = new UpstreamStats();
    provider = new OandaMarketDataProvider(
      { apiUrl: broker.url, streamUrl: broker.url, apiToken: 'secret-token', accountId: '101-004-1', timeoutMs: 200, maxRetries: 2, retryBaseDelayMs: 5 },
      stats,
    );
  });

  it('prices several instruments in one authenticated pricing call', async () => {
    broker.script({ status: 200, body: pricingBody(['EUR_USD', '1.08501', '1.08513'], ['USD_JPY', '151.402', '151.415']) });
    const quotes = await provider.getPrices(['EUR_USD', 'USD_JPY']);
    expect(quotes.get('EUR_USD')).toEqual({ symbol: 'EUR_USD', bid: 1.08501, ask: 1.08513, time: new Date('2026-11-25T10:00:00Z') });
    expect(quotes.get('USD_JPY')?.ask).toBe(151.415);
    expect(broker.seen).toEqual([{ url: '/v3/accounts/101-004-1/pricing?instruments=EUR_USD,USD_JPY', authorization: 'Bearer secret-token' }]);
    expect(stats).toMatchObject({ requests: 1, failures: 0, retries: 0 });
  });

  it('asks for mid candles with the broker granularity (D for D1)', async () => {
    broker.script({ status: 200, body: candlesBody('EUR_USD', 'D') });
    const candles = await provider.getCandles('EUR_USD', 'D1', 2);
    expect(broker.seen[0]?.url).toBe('/v3/instruments/EUR_USD/candles?granularity=D&count=2&price=M');
    expect(candles).toEqual([
      { time: new Date('2026-11-25T08:00:00Z'), open: 1.085, high: 1.0862, low: 1.0841, close: 1.0859, volume: 120, complete: true },
      { time: new Date('2026-11-25T09:00:00Z'), open: 1.0859, high: 1.086, low: 1.0855, close: 1.0857, volume: 40, complete: false },
    ]);
  });

  it('retries a 500 and succeeds on the next attempt', async () => {
    broker.script({ status: 500, body: { errorMessage: 'boom' } }, { status: 200, body: pricingBody(['EUR_USD', '1.1', '1.2']) });
    expect((await provider.getPrices(['EUR_USD'])).get('EUR_USD')?.bid).toBe(1.1);
    expect(stats).toMatchObject({ requests: 2, failures: 0, retries: 1 });
  });

  it('honours Retry-After on 429 before trying again', async () => {
    broker.script({ status: 429, body: {}, headers: { 'retry-after': '0.3' } }, { status: 200, body: pricingBody(['EUR_USD', '1.1', '1.2']) });
    const started = Date.now();
    await provider.getPrices(['EUR_USD']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(stats.retries).toBe(1);
  });

  it('gives up after the bounded retries with a clear error', async () => {
    broker.script({ status: 503, body: {} });
    const error = await provider.getPrices(['EUR_USD']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind: 'http', status: 503, message: 'oanda: HTTP 503' });
    expect(broker.seen).toHaveLength(3);
    expect(stats).toMatchObject({ requests: 3, failures: 1, retries: 2 });
  });

  it('does not retry a client error', async () => {
    broker.script({ status: 401, body: { errorMessage: 'Insufficient authorization' } });
    await expect(provider.getPrices(['EUR_USD'])).rejects.toMatchObject({ kind: 'http', status: 401 });
    expect(broker.seen).toHaveLength(1);
  });

  it('times out a broker that does not answer, per attempt, within the bound', async () => {
    broker.script({ hangMs: 5_000 });
    const started = Date.now();
    await expect(provider.getPrices(['EUR_USD'])).rejects.toMatchObject({ kind: 'timeout', message: 'oanda: no response within 200 ms' });
    // Three attempts of 200 ms plus small backoffs: far below the broker's 5 s.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(broker.seen).toHaveLength(3);
  });

  it.each([
    ['a body that is not JSON', { raw: '<html>gateway error</html>' }],
    ['JSON of the wrong shape', { status: 200, body: { prices: [{ instrument: 'EUR_USD' }] } }],
  ])('refuses %s as malformed, without retrying', async (_label, reply) => {
    broker.script(reply);
    await expect(provider.getPrices(['EUR_USD'])).rejects.toMatchObject({ kind: 'malformed' });
    expect(broker.seen).toHaveLength(1);
    expect(stats.failures).toBe(1);
  });

  it('reports an instrument the broker does not list as unknown (null)', async () => {
    broker.script({ status: 400, body: { errorMessage: "Invalid value specified for 'instrument'" } });
    expect(await provider.getCandles('ABC_XYZ', 'H1', 10)).toBeNull();
  });

  it.each([
    { answer: '503', reply: { status: 503, body: {} }, counted: true },
    { answer: '429', reply: { status: 429, body: {} }, counted: true },
    { answer: '401 (the token no longer works, for everyone)', reply: { status: 401, body: {} }, counted: true },
    { answer: '403', reply: { status: 403, body: {} }, counted: true },
    { answer: 'with a malformed body', reply: { raw: '<html>gateway error</html>' }, counted: true },
    { answer: '400 for an instrument it does not list (the request is at fault)', reply: { status: 400, body: { errorMessage: "Invalid value specified for 'instruments'" } }, counted: false },
    { answer: '404', reply: { status: 404, body: {} }, counted: false },
  ])('a pricing call answered $answer: counted against the broker by its circuit breaker: $counted', async ({ reply, counted }) => {
    broker.script(reply);
    const error = await provider.getPrices(['EUR_USD']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(isUpstreamFault(error)).toBe(counted);
  });

  it('counts a timeout against the broker, and no error of its own making', async () => {
    broker.script({ hangMs: 5_000 });
    expect(isUpstreamFault(await provider.getPrices(['EUR_USD']).catch((e: unknown) => e))).toBe(true);
    expect(isUpstreamFault(new TypeError('a bug'))).toBe(false);
  });

  it('reports an unreachable broker as a network error', async () => {
    const offline = new OandaMarketDataProvider(
      { apiUrl: 'http://127.0.0.1:1', streamUrl: 'http://127.0.0.1:1', apiToken: 't', accountId: 'a', timeoutMs: 500, maxRetries: 1, retryBaseDelayMs: 1 },
      stats,
    );
    await expect(offline.getPrices(['EUR_USD'])).rejects.toMatchObject({ kind: 'network' });
    expect(stats).toMatchObject({ requests: 2, failures: 1 });
  });
});
