import { candlesBody, FakeOanda, pricingBody } from '../helpers/fake-oanda';
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
