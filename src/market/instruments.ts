import { Matches, type ValidationOptions } from 'class-validator';

/** Instruments are spelled as OANDA does: three upper-case letters, underscore, three. */
export const INSTRUMENT_PATTERN = /^[A-Z]{3}_[A-Z]{3}$/;

export const TIMEFRAMES = ['M1', 'M5', 'M15', 'H1', 'H4', 'D1'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

export const TIMEFRAME_SECONDS: Readonly<Record<Timeframe, number>> = {
  M1: 60,
  M5: 300,
  M15: 900,
  H1: 3_600,
  H4: 14_400,
  D1: 86_400,
};

export interface InstrumentSpec {
  readonly symbol: string;
  /** Typical mid price, the centre of the simulated feed. */
  readonly basePrice: number;
  /** Price decimals quoted by brokers (5 for most pairs, 3 for JPY crosses). */
  readonly decimals: number;
}

/** The ten majors and crosses the demo data and the simulated feed cover. */
export const DEMO_INSTRUMENTS: readonly InstrumentSpec[] = [
  { symbol: 'EUR_USD', basePrice: 1.0852, decimals: 5 },
  { symbol: 'GBP_USD', basePrice: 1.2714, decimals: 5 },
  { symbol: 'USD_JPY', basePrice: 151.42, decimals: 3 },
  { symbol: 'USD_CHF', basePrice: 0.8845, decimals: 5 },
  { symbol: 'AUD_USD', basePrice: 0.6583, decimals: 5 },
  { symbol: 'USD_CAD', basePrice: 1.3561, decimals: 5 },
  { symbol: 'NZD_USD', basePrice: 0.6071, decimals: 5 },
  { symbol: 'EUR_GBP', basePrice: 0.8536, decimals: 5 },
  { symbol: 'EUR_JPY', basePrice: 164.31, decimals: 3 },
  { symbol: 'GBP_JPY', basePrice: 192.55, decimals: 3 },
];

/** Validation rule for instrument arguments (`each` for lists). */
export function IsInstrument(options: ValidationOptions = {}): PropertyDecorator {
  return Matches(INSTRUMENT_PATTERN, { message: '$property must be an instrument like EUR_USD (got "$value")', ...options });
}
