import { badInput } from '../errors';
import type { LiveBus, LiveMessage } from '../live/live-bus';
import { LiveInterest } from '../live/live-interest';
import type { Logger } from '../logger';
import { TIMEFRAME_SECONDS, type Timeframe } from './instruments';
import type { CandleBar, Quote } from './market-data.provider';
import type { MarketService } from './market.service';
import type { QuoteStreamLeader } from './quote-stream-leader';

/** A quote as it travels on the bus (JSON: the time as text). */
export interface QuoteEvent {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly time: string;
}

/** A bar of one instrument and timeframe: the forming bar after each tick, then the bar once complete. */
export interface CandleEvent {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly candle: Omit<CandleBar, 'time'> & { readonly time: string };
}

const quoteTopic = (symbol: string) => `quote:${symbol}`;
const candleTopic = (symbol: string, timeframe: Timeframe) => `candle:${symbol}:${timeframe}`;
/** Another instance lists new instruments: the leader should look now. */
const WANTED_TOPIC = 'market:wanted';

/**
 * Live market data: the fleet's one price stream (QuoteStreamLeader) turned into bus events.
 *
 * - On the leader, ticks are gathered while the previous batch is being applied: a batch is
 *   applied to the cache (MarketService.acceptQuotes), then published to every instance as
 *   `quote:{symbol}` events. A slow cache thus makes batches larger, never ticks late.
 * - Every instance builds the bars its clients subscribe to from the ticks it hears (the same
 *   ticks everywhere), starting from the provider's forming bar, and delivers them as
 *   `candle:{symbol}:{timeframe}` events to its own subscribers.
 */
export class MarketLive {
  private readonly pending = new Map<string, Quote>();
  private applying = false;
  private readonly builders = new Map<string, { builder: CandleBuilder; holders: number }>();

  constructor(
    private readonly market: MarketService,
    private readonly bus: LiveBus,
    private readonly leader: QuoteStreamLeader,
    private readonly logger: Logger,
    /** The instruments the gateway serves; a subscription to any other is refused (it would never tick). */
    private readonly listed: ReadonlySet<string>,
  ) {
    bus.onMessage((message) => this.heard(message));
  }

  /** For the leader: a tick from the upstream. */
  onTick(quote: Quote): void {
    this.pending.set(quote.symbol, quote);
    if (this.applying) return;
    this.applying = true;
    // After the current turn: the ticks of one read of the stream (one per instrument) make one batch.
    setImmediate(() => void this.applyPending());
  }

  /** For the leader: other instances should look at the wanted list now. */
  announceWanted(): void {
    void this.bus.publish({ topic: WANTED_TOPIC, data: null });
  }

  /** BAD_USER_INPUT for an instrument the gateway does not serve. */
  prices(symbols: readonly string[]): LiveInterest {
    this.assertListed(symbols, 'symbols');
    const wanted = [...new Set(symbols)];
    return new LiveInterest(wanted.map(quoteTopic), {
      conflationKey: (data) => (data as QuoteEvent).symbol,
      retain: () => this.leader.want(wanted),
    });
  }

  /** BAD_USER_INPUT for an instrument the gateway does not serve. */
  candles(symbol: string, timeframe: Timeframe): LiveInterest {
    this.assertListed([symbol], 'symbol');
    return new LiveInterest([candleTopic(symbol, timeframe)], {
      // Updates of the forming bar replace each other; a completed bar is never dropped.
      conflationKey: (data) => ((data as CandleEvent).candle.complete ? undefined : 'forming'),
      retain: () => {
        const releaseQuotes = this.leader.want([symbol]);
        const releaseBars = this.holdBuilder(symbol, timeframe);
        return () => {
          releaseBars();
          releaseQuotes();
        };
      },
    });
  }

  private assertListed(symbols: readonly string[], field: string): void {
    const unlisted = [...new Set(symbols.filter((symbol) => !this.listed.has(symbol)))];
    if (unlisted.length > 0) throw badInput(`${field}: ${unlisted.join(', ')} ${unlisted.length === 1 ? 'is not an instrument' : 'are not instruments'} the market-data feed lists`, { field });
  }

  private async applyPending(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = [...this.pending.values()];
        this.pending.clear();
        try {
          await this.market.acceptQuotes(batch);
        } catch (error) {
          // The ticks still go out: a cache that cannot take them must not stop the stream.
          this.logger.warn({ err: error }, 'market stream: the cache did not take a batch of quotes');
        }
        await Promise.all(batch.map((quote) => this.bus.publish({ topic: quoteTopic(quote.symbol), data: toEvent(quote) })));
      }
    } finally {
      this.applying = false;
    }
  }

  private heard(message: LiveMessage): void {
    if (message.topic === WANTED_TOPIC) {
      this.leader.refreshSoon();
      return;
    }
    if (!message.topic.startsWith('quote:')) return;
    const quote = message.data as QuoteEvent;
    for (const { builder } of this.builders.values()) {
      if (builder.symbol !== quote.symbol) continue;
      for (const event of builder.onQuote(quote)) this.bus.deliver({ topic: candleTopic(event.symbol, event.timeframe), data: event });
    }
  }

  private holdBuilder(symbol: string, timeframe: Timeframe): () => void {
    const key = candleTopic(symbol, timeframe);
    let held = this.builders.get(key);
    if (held === undefined) {
      held = { builder: new CandleBuilder(symbol, timeframe), holders: 0 };
      this.builders.set(key, held);
      const { builder } = held;
      this.market.getCandles(symbol, timeframe, 1).then(
        ([forming]) => forming !== undefined && builder.seed(forming),
        (error: unknown) => this.logger.debug({ err: error, symbol, timeframe }, 'market stream: no forming bar to start from; bars start at the next tick'),
      );
    }
    held.holders += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = this.builders.get(key);
      if (current === undefined || (current.holders -= 1) > 0) return;
      this.builders.delete(key);
    };
  }
}

function toEvent(quote: Quote): QuoteEvent {
  return { symbol: quote.symbol, bid: quote.bid, ask: quote.ask, time: quote.time.toISOString() };
}

/**
 * Midpoint bars from ticks: each tick updates the forming bar; the first tick past its end
 * completes it (sent once more, `complete: true`) and opens the next. Volume counts ticks.
 */
export class CandleBuilder {
  private bar: (Omit<CandleBar, 'time' | 'complete'> & { readonly startMs: number }) | undefined;
  private readonly sizeMs: number;

  constructor(
    readonly symbol: string,
    readonly timeframe: Timeframe,
  ) {
    this.sizeMs = TIMEFRAME_SECONDS[timeframe] * 1000;
  }

  /** The provider's forming bar, taken when no tick has started this bar here yet. */
  seed(forming: CandleBar): void {
    if (forming.complete) return;
    const startMs = forming.time.getTime();
    if (this.bar !== undefined && this.bar.startMs >= startMs) return;
    this.bar = { startMs, open: forming.open, high: forming.high, low: forming.low, close: forming.close, volume: forming.volume };
  }

  onQuote(quote: QuoteEvent): CandleEvent[] {
    const mid = (quote.bid + quote.ask) / 2;
    const startMs = Math.floor(Date.parse(quote.time) / this.sizeMs) * this.sizeMs;
    const events: CandleEvent[] = [];
    const bar = this.bar;
    if (bar !== undefined && startMs < bar.startMs) return events;
    if (bar === undefined || startMs > bar.startMs) {
      if (bar !== undefined) events.push(this.event(bar, true));
      this.bar = { startMs, open: mid, high: mid, low: mid, close: mid, volume: 1 };
    } else {
      this.bar = { ...bar, high: Math.max(bar.high, mid), low: Math.min(bar.low, mid), close: mid, volume: bar.volume + 1 };
    }
    events.push(this.event(this.bar, false));
    return events;
  }

  private event(bar: NonNullable<CandleBuilder['bar']>, complete: boolean): CandleEvent {
    const round = (value: number) => Number(value.toFixed(8));
    return {
      symbol: this.symbol,
      timeframe: this.timeframe,
      candle: { time: new Date(bar.startMs).toISOString(), open: round(bar.open), high: round(bar.high), low: round(bar.low), close: round(bar.close), volume: bar.volume, complete },
    };
  }
}
