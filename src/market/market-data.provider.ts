import type { Timeframe } from './instruments';

export interface Quote {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly time: Date;
}

export interface CandleBar {
  readonly time: Date;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** False for the bar that is still forming. */
  readonly complete: boolean;
}

/**
 * Where market data comes from. Batch-first: one call prices many instruments, so that a
 * request for 50 signals' current prices is one upstream call.
 */
export interface MarketDataProvider {
  readonly name: string;
  /** Quotes for the instruments the provider knows; unknown instruments are absent from the map. */
  getPrices(symbols: readonly string[]): Promise<ReadonlyMap<string, Quote>>;
  /** The latest `count` bars, oldest first; `null` when the instrument is unknown. */
  getCandles(symbol: string, timeframe: Timeframe, count: number): Promise<CandleBar[] | null>;
  /** Opens the provider's price stream for `symbols`: ticks and heartbeats until closed, or until it ends (`ended`). */
  streamPrices(symbols: readonly string[], handlers: PriceStreamHandlers): PriceStream;
}

export interface PriceStreamHandlers {
  tick(quote: Quote): void;
  /** The stream is alive with nothing to say (OANDA sends one every 5 s). */
  heartbeat(): void;
  /** The stream ended by itself or failed; it is not reopened here. */
  ended(error: unknown): void;
}

export interface PriceStream {
  close(): void;
}

export type UpstreamErrorKind = 'timeout' | 'network' | 'http' | 'malformed';

/** A failed upstream call, after retries. The message names the provider and what went wrong. */
export class UpstreamError extends Error {
  constructor(
    readonly provider: string,
    readonly kind: UpstreamErrorKind,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(`${provider}: ${message}`, { cause: options.cause });
    this.name = 'UpstreamError';
    this.status = options.status;
  }

  readonly status: number | undefined;
}

/**
 * Whether an error says the upstream is unwell, for the circuit breaker: a timeout, a network
 * error, a malformed answer, a 5xx, a 429, and a 401 or 403 (the gateway's credentials no longer
 * work, for every caller alike). Any other 4xx is about the request, not the upstream: counting
 * it would let a few bad requests open the circuit for everyone.
 */
export function isUpstreamFault(error: unknown): boolean {
  if (!(error instanceof UpstreamError)) return false;
  const { status } = error;
  const clientError = error.kind === 'http' && status !== undefined && status >= 400 && status < 500;
  return !clientError || status === 401 || status === 403 || status === 429;
}

/** Counts what reached the upstream (each HTTP attempt, each simulated call). */
export class UpstreamStats {
  requests = 0;
  failures = 0;
  retries = 0;
}
