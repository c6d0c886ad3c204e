import type { Timeframe } from '../market/instruments';

export const SIGNAL_DIRECTIONS = ['BUY', 'SELL'] as const;
export type SignalDirection = (typeof SIGNAL_DIRECTIONS)[number];

export const SIGNAL_STATUSES = ['ACTIVE', 'EXECUTED', 'EXPIRED', 'CANCELLED'] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];

/**
 * The status model: a signal is born ACTIVE and leaves it once, for one of the final statuses,
 * which it never leaves. Setting the status a signal already has is not a change either: it
 * would rewrite `updatedAt` and evict caches for nothing, and for a final status it would let a
 * second actor "execute" a signal someone else already executed.
 * Returns why `from` cannot become `to`, or `null` when it can.
 */
export function statusChangeRefusal(from: SignalStatus, to: SignalStatus): string | null {
  if (from !== 'ACTIVE') return `it is ${from}, a final status, and a final status never changes`;
  if (to === 'ACTIVE') return 'it is already ACTIVE';
  return null;
}

export interface SignalRecord {
  readonly id: number;
  readonly userId: number;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly direction: SignalDirection;
  readonly status: SignalStatus;
  readonly entryPrice: number;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
  /** Model confidence in [0, 1]. */
  readonly confidence: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SignalFilter {
  readonly symbol?: string | undefined;
  readonly timeframe?: Timeframe | undefined;
  readonly status?: SignalStatus | undefined;
  readonly limit: number;
}

export interface NewSignal {
  readonly userId: number;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly direction: SignalDirection;
  readonly entryPrice: number;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
  readonly confidence: number;
}

/** Aggregates over a set of signals (one symbol's, or one user's). */
export interface SignalAggregate {
  readonly totalSignals: number;
  readonly activeSignals: number;
  readonly executedSignals: number;
  readonly buySignals: number;
  readonly sellSignals: number;
  /** `null` when there are no signals. */
  readonly averageConfidence: number | null;
  readonly lastSignalAt: Date | null;
}

export const EMPTY_AGGREGATE: SignalAggregate = {
  totalSignals: 0,
  activeSignals: 0,
  executedSignals: 0,
  buySignals: 0,
  sellSignals: 0,
  averageConfidence: null,
  lastSignalAt: null,
};
