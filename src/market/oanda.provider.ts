import { z } from 'zod';

import type { Timeframe } from './instruments';
import { type CandleBar, type MarketDataProvider, type PriceStream, type PriceStreamHandlers, type Quote, UpstreamError, type UpstreamStats } from './market-data.provider';

export interface OandaOptions {
  readonly apiUrl: string;
  /** OANDA serves streams from their own host (stream-fxpractice / stream-fxtrade). */
  readonly streamUrl: string;
  readonly apiToken: string;
  readonly accountId: string;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Extra attempts after the first, on timeouts, network errors, 5xx and 429 only. */
  readonly maxRetries: number;
  /** First backoff; doubles per attempt, with full jitter. */
  readonly retryBaseDelayMs: number;
  /** The HTTP client (default: the global fetch); tracing passes one that sends `traceparent`. */
  readonly fetch?: typeof fetch;
}

const GRANULARITY: Readonly<Record<Timeframe, string>> = { M1: 'M1', M5: 'M5', M15: 'M15', H1: 'H1', H4: 'H4', D1: 'D' };
/** A Retry-After longer than this is not worth holding a GraphQL request for. */
const MAX_RETRY_AFTER_MS = 2_000;

const decimal = z.string().regex(/^\d+(\.\d+)?$/).transform(Number);
const pricingBody = z.object({
  prices: z.array(
    z.object({
      instrument: z.string(),
      time: z.string(),
      bids: z.array(z.object({ price: decimal })).min(1),
      asks: z.array(z.object({ price: decimal })).min(1),
    }),
  ),
});
/** One line of the pricing stream: a PRICE or a HEARTBEAT (other types are ignored). */
const streamLine = z.discriminatedUnion('type', [
  z.object({ type: z.literal('PRICE'), instrument: z.string(), time: z.string(), bids: z.array(z.object({ price: decimal })).min(1), asks: z.array(z.object({ price: decimal })).min(1) }),
  z.object({ type: z.literal('HEARTBEAT') }),
]);
const candlesBody = z.object({
  candles: z.array(
    z.object({
      time: z.string(),
      volume: z.number().int().nonnegative(),
      complete: z.boolean(),
      mid: z.object({ o: decimal, h: decimal, l: decimal, c: decimal }),
    }),
  ),
});

/** OANDA v20 REST (pricing and candles), with a timeout per attempt and bounded retries. */
export class OandaMarketDataProvider implements MarketDataProvider {
  readonly name = 'oanda';

  constructor(
    private readonly options: OandaOptions,
    private readonly stats: UpstreamStats,
  ) {}

  async getPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, Quote>> {
    if (symbols.length === 0) return new Map();
    const path = `/v3/accounts/${encodeURIComponent(this.options.accountId)}/pricing?instruments=${symbols.map(encodeURIComponent).join(',')}`;
    const body = await this.getJson(path, pricingBody);
    // Best bid and ask are the first entries of each book side.
    return new Map(
      body.prices.map((price) => [
        price.instrument,
        { symbol: price.instrument, bid: price.bids[0]!.price, ask: price.asks[0]!.price, time: new Date(price.time) },
      ]),
    );
  }

  /**
   * `GET /v3/accounts/{id}/pricing/stream`: newline-delimited JSON, a PRICE line per change and a
   * HEARTBEAT every 5 s. Lines that are not JSON, or not of a known shape, are skipped. Whoever
   * opened it decides when silence means a dead stream (see QuoteStreamLeader).
   */
  streamPrices(symbols: readonly string[], handlers: PriceStreamHandlers): PriceStream {
    const abort = new AbortController();
    const url = `${this.options.streamUrl.replace(/\/$/, '')}/v3/accounts/${encodeURIComponent(this.options.accountId)}/pricing/stream?instruments=${symbols.map(encodeURIComponent).join(',')}`;
    this.stats.requests += 1;
    const read = async () => {
      const response = await (this.options.fetch ?? fetch)(url, {
        headers: { authorization: `Bearer ${this.options.apiToken}`, accept: 'application/json', 'accept-datetime-format': 'RFC3339' },
        signal: abort.signal,
      });
      if (!response.ok || response.body === null) throw new UpstreamError(this.name, 'http', `price stream: HTTP ${response.status}`, { status: response.status });
      const decoder = new TextDecoder();
      let pending = '';
      for await (const chunk of response.body) {
        pending += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== '') this.onStreamLine(line, handlers);
        }
      }
      throw new UpstreamError(this.name, 'network', 'price stream ended');
    };
    read().catch((error: unknown) => {
      if (abort.signal.aborted) return;
      this.stats.failures += 1;
      handlers.ended(error);
    });
    return { close: () => abort.abort() };
  }

  private onStreamLine(line: string, handlers: PriceStreamHandlers): void {
    let parsed: z.infer<typeof streamLine>;
    try {
      const result = streamLine.safeParse(JSON.parse(line));
      if (!result.success) return;
      parsed = result.data;
    } catch {
      return;
    }
    if (parsed.type === 'HEARTBEAT') handlers.heartbeat();
    else handlers.tick({ symbol: parsed.instrument, bid: parsed.bids[0]!.price, ask: parsed.asks[0]!.price, time: new Date(parsed.time) });
  }

  async getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[] | null> {
    const path = `/v3/instruments/${encodeURIComponent(symbol)}/candles?granularity=${GRANULARITY[timeframe]}&count=${count}&price=M`;
    try {
      const body = await this.getJson(path, candlesBody);
      return body.candles.map((candle) => ({
        time: new Date(candle.time),
        open: candle.mid.o,
        high: candle.mid.h,
        low: candle.mid.l,
        close: candle.mid.c,
        volume: candle.volume,
        complete: candle.complete,
      }));
    } catch (error) {
      // OANDA answers 400 or 404 for an instrument it does not list.
      if (error instanceof UpstreamError && (error.status === 400 || error.status === 404)) return null;
      throw error;
    }
  }

  private async getJson<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const url = `${this.options.apiUrl.replace(/\/$/, '')}${path}`;
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await this.attempt(url);
      if (outcome.ok) {
        const parsed = schema.safeParse(outcome.body);
        if (!parsed.success) {
          this.stats.failures += 1;
          throw new UpstreamError(this.name, 'malformed', `unexpected response body from ${path.split('?')[0]}`, { cause: parsed.error });
        }
        return parsed.data;
      }
      if (!outcome.retryable || attempt >= this.options.maxRetries) {
        this.stats.failures += 1;
        throw outcome.error;
      }
      this.stats.retries += 1;
      const backoff = Math.random() * this.options.retryBaseDelayMs * 2 ** attempt;
      await sleep(Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)));
    }
  }

  private async attempt(
    url: string,
  ): Promise<{ ok: true; body: unknown } | { ok: false; retryable: boolean; error: UpstreamError; retryAfterMs?: number }> {
    this.stats.requests += 1;
    let response: Response;
    let text: string;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        headers: { authorization: `Bearer ${this.options.apiToken}`, accept: 'application/json', 'accept-datetime-format': 'RFC3339' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // The timeout signal also covers reading the body, so a broker that stalls mid-body times out too.
      text = await response.text();
    } catch (cause) {
      return { ok: false, retryable: true, error: this.transportError(cause) };
    }
    if (!response.ok) {
      const retryable = response.status === 429 || response.status >= 500;
      const retryAfterSeconds = Number(response.headers.get('retry-after'));
      return {
        ok: false,
        retryable,
        error: new UpstreamError(this.name, 'http', `HTTP ${response.status}`, { status: response.status }),
        ...(Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
      };
    }
    try {
      return { ok: true, body: JSON.parse(text) as unknown };
    } catch (cause) {
      return { ok: false, retryable: false, error: new UpstreamError(this.name, 'malformed', 'response body is not JSON', { cause }) };
    }
  }

  private transportError(cause: unknown): UpstreamError {
    if (cause instanceof DOMException && cause.name === 'TimeoutError') {
      return new UpstreamError(this.name, 'timeout', `no response within ${this.options.timeoutMs} ms`, { cause });
    }
    return new UpstreamError(this.name, 'network', `request failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
