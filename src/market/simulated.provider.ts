import { DEMO_INSTRUMENTS, type InstrumentSpec, TIMEFRAME_SECONDS, type Timeframe } from './instruments';
import type { CandleBar, MarketDataProvider, PriceStream, PriceStreamHandlers, Quote } from './market-data.provider';
import type { UpstreamStats } from './market-data.provider';

/**
 * A deterministic market feed: the mid price of an instrument is a pure function of the
 * instrument and the second, so two instances (or a test and the gateway) agree on every value.
 * An optional delay models the round trip to a remote broker API.
 */
export class SimulatedMarketDataProvider implements MarketDataProvider {
  readonly name = 'simulated';
  private readonly instruments: ReadonlyMap<string, InstrumentSpec>;

  constructor(
    private readonly options: { latencyMs: number; now: () => number; ticksPerSecond: number },
    private readonly stats: UpstreamStats,
    instruments: readonly InstrumentSpec[] = DEMO_INSTRUMENTS,
  ) {
    this.instruments = new Map(instruments.map((spec) => [spec.symbol, spec]));
  }

  async getPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, Quote>> {
    await this.roundTrip();
    const second = Math.floor(this.options.now() / 1000);
    const quotes = new Map<string, Quote>();
    for (const symbol of symbols) {
      const quote = this.quoteAt(symbol, second);
      if (quote !== undefined) quotes.set(symbol, quote);
    }
    return quotes;
  }

  /**
   * Ticks at `ticksPerSecond` per instrument (MARKET_SIM_TICKS_PER_SECOND), priced at fractions of
   * a second, and a heartbeat every 5 s as OANDA sends them. Counts as one upstream call.
   */
  streamPrices(symbols: readonly string[], handlers: PriceStreamHandlers): PriceStream {
    this.stats.requests += 1;
    const known = symbols.filter((symbol) => this.instruments.has(symbol));
    const tickMs = 1000 / this.options.ticksPerSecond;
    const ticks = setInterval(() => {
      const second = this.options.now() / 1000;
      for (const symbol of known) {
        const quote = this.quoteAt(symbol, second);
        if (quote !== undefined) handlers.tick(quote);
      }
    }, tickMs);
    const heartbeats = setInterval(() => handlers.heartbeat(), 5_000);
    return {
      close() {
        clearInterval(ticks);
        clearInterval(heartbeats);
      },
    };
  }

  /** The quote at `second` (fractions allowed: the stream ticks within a second); REST quotes are on whole seconds. */
  private quoteAt(symbol: string, second: number): Quote | undefined {
    const spec = this.instruments.get(symbol);
    if (spec === undefined) return undefined;
    const mid = midPrice(spec, second);
    const pip = 10 ** -(spec.decimals - 1);
    const halfSpread = (pip * (0.6 + hashUnit(spec.symbol, Math.floor(second), 7))) / 2;
    return { symbol, bid: round(mid - halfSpread, spec.decimals), ask: round(mid + halfSpread, spec.decimals), time: new Date(Math.round(second * 1000)) };
  }

  async getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[] | null> {
    await this.roundTrip();
    const spec = this.instruments.get(symbol);
    if (spec === undefined) return null;
    const step = TIMEFRAME_SECONDS[timeframe];
    const nowSecond = Math.floor(this.options.now() / 1000);
    const current = Math.floor(nowSecond / step);
    const bars: CandleBar[] = [];
    for (let index = current - count + 1; index <= current; index += 1) {
      const start = index * step;
      const end = Math.min(start + step, nowSecond);
      const open = round(midPrice(spec, start), spec.decimals);
      const close = round(midPrice(spec, end), spec.decimals);
      // Wicks extend beyond the body by a deterministic fraction of the bar's typical range.
      const range = spec.basePrice * 0.0004 * Math.sqrt(step / 60);
      bars.push({
        time: new Date(start * 1000),
        open,
        close,
        high: round(Math.max(open, close) + range * hashUnit(symbol, index, step + 1), spec.decimals),
        low: round(Math.min(open, close) - range * hashUnit(symbol, index, step + 2), spec.decimals),
        volume: 100 + Math.floor(hashUnit(symbol, index, step + 3) * 900 * Math.sqrt(step / 60)),
        complete: end === start + step,
      });
    }
    return bars;
  }

  private async roundTrip(): Promise<void> {
    this.stats.requests += 1;
    if (this.options.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
  }
}

/** Sum of slow and fast waves (week, day, hour, five minutes) plus a little per-second noise. */
function midPrice(spec: InstrumentSpec, second: number): number {
  const phase = hashUnit(spec.symbol, 0, 0) * 2 * Math.PI;
  const wave = (periodSeconds: number, amplitude: number) => amplitude * Math.sin((2 * Math.PI * second) / periodSeconds + phase);
  const drift = wave(604_800, 0.012) + wave(86_400, 0.004) + wave(3_600, 0.0015) + wave(300, 0.0004);
  const noise = (hashUnit(spec.symbol, second, 1) - 0.5) * 0.0002;
  return spec.basePrice * (1 + drift + noise);
}

/** A stable pseudo-random number in [0, 1) from a string and two integers (FNV-1a then a mix). */
function hashUnit(text: string, a: number, b: number): number {
  let hash = 0x811c9dc5;
  const input = `${text}:${a}:${b}`;
  for (let i = 0; i < input.length; i += 1) {
    hash ^= input.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  return (hash >>> 0) / 4_294_967_296;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
