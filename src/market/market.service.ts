import { CacheMarketData, type CachingHost } from '../cache/cache-decorators';
import type { CacheKeys } from '../cache/cache-keys';
import { CacheTags } from '../cache/cache-tags';
import type { CacheService, TtlTiers } from '../cache/cache.service';
import type { InvalidationPart } from '../cache/invalidation-journal';
import type { SingleFlight } from '../cache/single-flight';
import { ErrorCode, notFound, PublicError } from '../errors';
import type { StaleSink } from '../graphql/stale-reads';
import { type BreakerSnapshot, type CircuitBreaker, CircuitOpenError } from './circuit-breaker';
import { TIMEFRAME_SECONDS, type Timeframe } from './instruments';
import type { LastKnownValues, Recalled } from './last-known';
import { type CandleBar, type MarketDataProvider, type Quote, UpstreamError } from './market-data.provider';

/** Shortest life of cached candles, so that the forming bar of M1 is never far behind. */
const MIN_CANDLE_TTL_SECONDS = 5;

/**
 * Why a value was served from its last-known copy: the `reason` in `extensions.stale[]`.
 * `slow_upstream`: the provider had not answered within MARKET_STALE_AFTER_MS (its load goes on).
 */
export type StaleReason = 'timeout' | 'upstream_error' | 'circuit_open' | 'slow_upstream';

/** What the deadline of a read found: a stale answer to give now (marking and counting it), or nothing usable. */
type StaleAnswer<T> = (() => T) | undefined;

const noop = (): void => undefined;

/** The provider's resilience state, for the operator endpoints (snake_case like the seed's). */
export interface MarketDataReport {
  readonly provider: string;
  readonly breaker: BreakerSnapshot;
  readonly stale_if_error: {
    readonly grace_seconds: number;
    readonly stale_after_ms: number;
    readonly served: number;
    /** Of `served`: served at the deadline because the provider was slow, not because it failed. */
    readonly served_slow_upstream: number;
    readonly refused_too_old: number;
    readonly refused_absent: number;
  };
}

/**
 * Market reads for the GraphQL layer, through the cache: quotes for `priceTtlSeconds`
 * (CACHE_TTL_PRICE), candles for a twelfth of their bar size (bounded by CACHE_TTL_SHORT).
 * Every upstream call goes through the provider's circuit breaker, and every value loaded is
 * also kept as a last-known copy. When the provider fails, `readQuotes`/`readCandles` serve that
 * copy within the grace window, marked stale; otherwise, and always for `getQuotes`/`getCandles`,
 * the failure is UPSTREAM_UNAVAILABLE with a message that names no internals.
 *
 * A slow provider is not left to run the clock down either: when a read's fresh load has not
 * finished within `staleAfterMs` (MARKET_STALE_AFTER_MS; 0 turns this off) and every value it
 * lacks has a last-known copy within the window, those copies answer at once (`slow_upstream`)
 * while the load goes on in the background: its result is cached as usual, its failure counted by
 * the breaker as usual. Concurrent reads share that one load (getOrSet's single flight for
 * candles, `quoteCalls` per symbol for quotes), so a hanging provider gets no extra calls.
 */
export class MarketService implements CachingHost {
  constructor(
    private readonly provider: MarketDataProvider,
    readonly cache: CacheService,
    readonly cacheKeys: CacheKeys,
    private readonly priceTtlSeconds: number,
    private readonly breaker: CircuitBreaker,
    private readonly lastKnown: LastKnownValues,
    private readonly staleAfterMs: number,
  ) {
    this.quoteCalls = cache.newFlight();
  }

  /**
   * Provider calls for quotes in progress, by symbol: a read that finds its symbol here joins that
   * call instead of making another. An invalidation ends them (the result may be outdated).
   */
  private readonly quoteCalls: SingleFlight<Quote | null>;

  /**
   * Fresh quotes in the order of `symbols`; `null` for an instrument the provider does not know.
   * One upstream call for the misses. For warming, which must not count a stale copy as warmed.
   */
  async getQuotes(symbols: readonly string[]): Promise<(Quote | null)[]> {
    try {
      return await this.freshQuotes(symbols);
    } catch (error) {
      throw translated(error);
    }
  }

  /**
   * Quotes for a request. When the provider fails, each symbol without a fresh entry gets its
   * last-known quote (marked in `stale`) or, beyond the window, an UPSTREAM_UNAVAILABLE error in
   * its place, which fails that key only (the DataLoader contract).
   */
  async readQuotes(symbols: readonly string[], stale: StaleSink): Promise<(Quote | null | PublicError)[]> {
    try {
      return await this.withinDeadline(this.freshQuotes(symbols), () => this.slowQuotes(symbols, stale));
    } catch (error) {
      const reason = staleReasonOf(error);
      if (reason === undefined) throw error;
      // The batch failed as a whole: entries that were fresh in the cache are still good.
      const { fresh, copies } = await this.freshOrLastKnown(symbols, (entries) => this.lastKnown.recall<Quote>(entries));
      const refused = unavailable(error);
      return symbols.map((symbol, index) => {
        const hit = fresh[index];
        if (hit !== undefined) return hit;
        const copy = copies.get(symbol);
        if (copy === undefined) return refused;
        stale.mark(copy.value, { ageSeconds: copy.ageSeconds, reason });
        return copy.value;
      });
    }
  }

  /** The latest `count` bars, fresh; NOT_FOUND for an unknown instrument. */
  async getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[]> {
    try {
      return await this.freshCandles(symbol, timeframe, count);
    } catch (error) {
      throw translated(error);
    }
  }

  /** Candles for a request: the last-known series (marked in `stale`) when the provider fails within the window. */
  async readCandles(symbol: string, timeframe: Timeframe, count: number, stale: StaleSink): Promise<CandleBar[]> {
    const lastKnown = { key: this.cacheKeys.marketLastKnown(symbol, candleSeries(timeframe, count)), freshTtlSeconds: candleTtlSeconds(this.cache.ttl, timeframe) };
    try {
      return await this.withinDeadline(this.freshCandles(symbol, timeframe, count), async () => {
        const [copy] = await this.lastKnown.peek<CandleBar[]>([lastKnown]);
        if (copy === undefined) return undefined;
        return () => {
          this.lastKnown.countServedSlow(1);
          stale.mark(copy.value, { ageSeconds: copy.ageSeconds, reason: 'slow_upstream' });
          return copy.value;
        };
      });
    } catch (error) {
      const reason = staleReasonOf(error);
      if (reason === undefined) throw error;
      const [copy] = await this.lastKnown.recall<CandleBar[]>([lastKnown]);
      if (copy === undefined) throw translated(error);
      stale.mark(copy.value, { ageSeconds: copy.ageSeconds, reason });
      return copy.value;
    }
  }

  /**
   * Quotes pushed by the price stream. The cached quote and its last-known copy are replaced
   * between two evictions of the responses showing these instruments (on every instance, as any
   * invalidation is), so that `price` is never older than what the stream has published: the
   * ticks go out to subscribers only after this resolves.
   * - The first eviction bumps the invalidation epoch, so that a REST load begun before cannot
   *   write an older quote after this one.
   * - The second removes the responses computed in between, here or on another instance: they
   *   read the previous quote, and nothing else would evict them before the next tick.
   */
  async acceptQuotes(quotes: readonly Quote[]): Promise<void> {
    if (quotes.length === 0) return;
    const shown: InvalidationPart[] = [{ kind: 'tags', tags: quotes.map((quote) => CacheTags.market(quote.symbol)) }];
    await this.cache.deleteAll(shown);
    const epoch = this.cache.invalidationEpoch;
    await Promise.all([
      this.cache.mset(quotes.map((quote) => ({ key: this.cacheKeys.market(quote.symbol, 'price'), value: quote, ttlSeconds: this.priceTtlSeconds }))),
      this.lastKnown.remember(
        quotes.map((quote) => ({ key: this.cacheKeys.marketLastKnown(quote.symbol, 'price'), value: quote, freshTtlSeconds: this.priceTtlSeconds })),
        epoch,
      ),
    ]);
    await this.cache.deleteAll(shown);
  }

  report(): MarketDataReport {
    const { served, servedSlowUpstream, refusedTooOld, refusedAbsent } = this.lastKnown.stats;
    return {
      provider: this.provider.name,
      breaker: this.breaker.snapshot(),
      stale_if_error: {
        grace_seconds: this.lastKnown.graceSeconds,
        stale_after_ms: this.staleAfterMs,
        served,
        served_slow_upstream: servedSlowUpstream,
        refused_too_old: refusedTooOld,
        refused_absent: refusedAbsent,
      },
    };
  }

  /**
   * `load`'s outcome, unless it has not settled within `staleAfterMs` and `slow` then offers a
   * stale answer: that answer is given, and `load` runs on unobserved (its failure is the
   * breaker's to count; nothing else waits for it, so it must not surface as an unhandled
   * rejection). Without an offer, or when `load` settled while the copies were being read, the
   * read waits for `load` as if there were no deadline.
   */
  private async withinDeadline<T>(load: Promise<T>, slow: () => Promise<StaleAnswer<T>>): Promise<T> {
    if (this.staleAfterMs === 0) return load;
    let timer: NodeJS.Timeout | undefined;
    const late = Symbol('late');
    const deadline = new Promise<typeof late>((resolve) => {
      timer = setTimeout(() => resolve(late), this.staleAfterMs);
    });
    try {
      const first = await Promise.race([load, deadline]);
      if (first !== late) return first;
    } finally {
      clearTimeout(timer);
    }
    let settled = false;
    const markSettled = () => {
      settled = true;
    };
    load.then(markSettled, markSettled);
    const answer = await slow();
    return answer === undefined || settled ? load : answer();
  }

  /**
   * The deadline's offer for quotes: fresh entries as they are and last-known copies for the rest,
   * but only when every symbol lacking a fresh entry has a copy; the batch answers as one, so one
   * symbol without a copy makes the whole batch wait for the provider.
   */
  private async slowQuotes(symbols: readonly string[], stale: StaleSink): Promise<StaleAnswer<(Quote | null)[]>> {
    const { fresh, copies } = await this.freshOrLastKnown(symbols, (entries) => this.lastKnown.peek<Quote>(entries));
    if ([...copies.values()].some((copy) => copy === undefined)) return undefined;
    return () => {
      this.lastKnown.countServedSlow(copies.size);
      return symbols.map((symbol, index) => {
        const hit = fresh[index];
        if (hit !== undefined) return hit;
        const copy = copies.get(symbol)!;
        stale.mark(copy.value, { ageSeconds: copy.ageSeconds, reason: 'slow_upstream' });
        return copy.value;
      });
    };
  }

  /**
   * The quotes still fresh in the cache, and for each symbol without one its last-known copy as
   * `read` finds it (`recall` counts the outcome, `peek` does not); `undefined` where there is none.
   */
  private async freshOrLastKnown(
    symbols: readonly string[],
    read: (entries: { key: string; freshTtlSeconds: number }[]) => Promise<(Recalled<Quote> | undefined)[]>,
  ): Promise<{ fresh: (Quote | undefined)[]; copies: Map<string, Recalled<Quote> | undefined> }> {
    const fresh = await this.cache.mget<Quote>(symbols.map((symbol) => this.cacheKeys.market(symbol, 'price')));
    const missing = [...new Set(symbols.filter((_, index) => fresh[index] === undefined))];
    const recalled = await read(missing.map((symbol) => ({ key: this.cacheKeys.marketLastKnown(symbol, 'price'), freshTtlSeconds: this.priceTtlSeconds })));
    return { fresh, copies: new Map(missing.map((symbol, index) => [symbol, recalled[index]])) };
  }

  /** Throws the provider's UpstreamError or the breaker's CircuitOpenError as they are. */
  private freshQuotes(symbols: readonly string[]): Promise<(Quote | null)[]> {
    return this.cache.getManyOrLoad(
      symbols,
      (symbol) => this.cacheKeys.market(symbol, 'price'),
      async (missing) => {
        const quotes = await this.pendingOrLoad([...new Set(missing)]);
        return missing.map((symbol) => quotes.get(symbol) ?? null);
      },
      this.priceTtlSeconds,
    );
  }

  /**
   * Quotes for `symbols`: symbols with a provider call in progress (circuit closed) join it, the
   * others go to the provider in one call, which later reads can join.
   */
  private async pendingOrLoad(symbols: readonly string[]): Promise<ReadonlyMap<string, Quote | null>> {
    const epoch = this.cache.invalidationEpoch;
    // Unless the circuit is closed, the breaker answers at once (short circuit) or lets one probe
    // through: joining the probe would make a read wait that the breaker would fail fast.
    const join = this.breaker.state === 'closed';
    const waits = new Map<string, Promise<Quote | null>>();
    const toLoad: string[] = [];
    for (const symbol of symbols) {
      const pending = join ? this.quoteCalls.join(symbol) : undefined;
      if (pending !== undefined) waits.set(symbol, pending);
      else toLoad.push(symbol);
    }
    if (toLoad.length > 0) {
      const call = this.loadQuotes(toLoad, epoch);
      for (const symbol of toLoad) {
        const quote = this.quoteCalls.track(symbol, call.then((quotes) => quotes.get(symbol) ?? null));
        // Handled here and by every reader that joins it: a failure is reported to those, never left unhandled.
        quote.catch(noop);
        waits.set(symbol, quote);
      }
    }
    const entries = [...waits];
    const values = await Promise.all(entries.map(([, quote]) => quote));
    return new Map(entries.map(([symbol], index) => [symbol, values[index] ?? null]));
  }

  /** One provider call through the breaker; what it returns is also kept as last-known copies. */
  private async loadQuotes(symbols: readonly string[], epoch: number): Promise<ReadonlyMap<string, Quote>> {
    const quotes = await this.breaker.run(() => this.provider.getPrices(symbols));
    await this.lastKnown.remember(
      symbols.flatMap((symbol) => {
        const quote = quotes.get(symbol);
        return quote === undefined ? [] : [{ key: this.cacheKeys.marketLastKnown(symbol, 'price'), value: quote, freshTtlSeconds: this.priceTtlSeconds }];
      }),
      epoch,
    );
    return quotes;
  }

  /** Cached under `market:{symbol}:{timeframe}:{count}` by the decorator; throws upstream failures as they are. */
  @CacheMarketData({ ttl: (tiers: TtlTiers, _symbol: string, timeframe: Timeframe) => candleTtlSeconds(tiers, timeframe) })
  private async freshCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[]> {
    const epoch = this.cache.invalidationEpoch;
    const candles = await this.breaker.run(() => this.provider.getCandles(symbol, timeframe, count));
    if (candles === null) throw notFound(`Instrument ${symbol}`);
    await this.lastKnown.remember(
      [{ key: this.cacheKeys.marketLastKnown(symbol, candleSeries(timeframe, count)), value: candles, freshTtlSeconds: candleTtlSeconds(this.cache.ttl, timeframe) }],
      epoch,
    );
    return candles;
  }
}

/** The timeframe part of a candle key, as @CacheMarketData spells it from the arguments. */
function candleSeries(timeframe: Timeframe, count: number): string {
  return `${timeframe}:${count}`;
}

function candleTtlSeconds(tiers: TtlTiers, timeframe: Timeframe): number {
  return Math.max(MIN_CANDLE_TTL_SECONDS, Math.min(tiers.short, Math.floor(TIMEFRAME_SECONDS[timeframe] / 12)));
}

/** The failures that stale-if-error covers; anything else (NOT_FOUND, a bug) is not an outage. */
function staleReasonOf(error: unknown): StaleReason | undefined {
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof UpstreamError) return error.kind === 'timeout' ? 'timeout' : 'upstream_error';
  return undefined;
}

function unavailable(cause: unknown): PublicError {
  return new PublicError(ErrorCode.UpstreamUnavailable, 'Market data is temporarily unavailable', { cause });
}

function translated(error: unknown): unknown {
  return error instanceof UpstreamError || error instanceof CircuitOpenError ? unavailable(error) : error;
}
