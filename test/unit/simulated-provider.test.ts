import { DEMO_INSTRUMENTS, TIMEFRAMES, TIMEFRAME_SECONDS } from '../../src/market/instruments';
import { UpstreamStats } from '../../src/market/market-data.provider';
import { SimulatedMarketDataProvider } from '../../src/market/simulated.provider';

const NOW = Date.UTC(2026, 10, 25, 10, 17, 42);
const feed = (now = NOW, latencyMs = 0) => new SimulatedMarketDataProvider({ latencyMs, now: () => now, ticksPerSecond: 4 }, new UpstreamStats());
const symbols = DEMO_INSTRUMENTS.map((i) => i.symbol);

describe('the simulated market feed', () => {
  it('quotes every demo instrument with bid below ask, near its base price', async () => {
    const quotes = await feed().getPrices(symbols);
    expect(quotes.size).toBe(10);
    for (const spec of DEMO_INSTRUMENTS) {
      const quote = quotes.get(spec.symbol)!;
      expect(quote.bid).toBeLessThan(quote.ask);
      expect(Math.abs(quote.bid / spec.basePrice - 1)).toBeLessThan(0.03);
      expect(quote.time).toEqual(new Date(Math.floor(NOW / 1000) * 1000));
    }
  });

  it('is deterministic per instrument and moves with time', async () => {
    const [first, again, later] = await Promise.all([feed().getPrices(['EUR_USD']), feed().getPrices(['EUR_USD']), feed(NOW + 60_000).getPrices(['EUR_USD'])]);
    expect(again.get('EUR_USD')).toEqual(first.get('EUR_USD'));
    expect(later.get('EUR_USD')!.bid).not.toBe(first.get('EUR_USD')!.bid);
  });

  it('leaves out instruments it does not list', async () => {
    const quotes = await feed().getPrices(['EUR_USD', 'ABC_XYZ']);
    expect([...quotes.keys()]).toEqual(['EUR_USD']);
    expect(await feed().getCandles('ABC_XYZ', 'H1', 5)).toBeNull();
  });

  it.each(TIMEFRAMES)('builds consistent %s candles: contiguous, low <= open/close <= high', async (timeframe) => {
    const candles = (await feed().getCandles('GBP_JPY', timeframe, 50))!;
    const step = TIMEFRAME_SECONDS[timeframe] * 1000;
    expect(candles).toHaveLength(50);
    candles.forEach((candle, index) => {
      expect(candle.low).toBeLessThanOrEqual(Math.min(candle.open, candle.close));
      expect(candle.high).toBeGreaterThanOrEqual(Math.max(candle.open, candle.close));
      expect(candle.volume).toBeGreaterThan(0);
      if (index > 0) {
        expect(candle.time.getTime() - candles[index - 1]!.time.getTime()).toBe(step);
        expect(candle.open).toBe(candles[index - 1]!.close);
      }
    });
    expect(candles.at(-1)!.time.getTime()).toBeLessThanOrEqual(NOW);
    expect(candles.at(-1)!.complete).toBe(NOW % step === 0);
    expect(candles.slice(0, -1).every((c) => c.complete)).toBe(true);
  });

  it('counts calls and models a remote round trip when asked', async () => {
    const stats = new UpstreamStats();
    const slow = new SimulatedMarketDataProvider({ latencyMs: 50, now: () => NOW, ticksPerSecond: 4 }, stats);
    const started = Date.now();
    await slow.getPrices(['EUR_USD']);
    await slow.getCandles('EUR_USD', 'M1', 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(stats.requests).toBe(2);
  });
});
