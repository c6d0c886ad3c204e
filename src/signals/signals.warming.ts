import type { WarmingStrategy } from '../warming/warming.service';
import type { SignalsService } from './signals.service';

/** The page the front end asks for first: an instrument's newest 50 signals. */
const DEFAULT_PAGE = 50;
const LATEST_PER_SYMBOL = 5;

/** Seed strategy "signals": latest signals and the first page of every instrument. */
export function signalsWarming(signals: SignalsService, symbols: readonly string[]): WarmingStrategy {
  return {
    name: 'signals_data',
    async run(limit) {
      await Promise.all([
        limit(() => signals.latestBySymbols(symbols, LATEST_PER_SYMBOL)),
        ...symbols.map((symbol) => limit(() => signals.listSignals({ symbol, limit: DEFAULT_PAGE }))),
      ]);
      return symbols.length;
    },
  };
}

/** Seed strategy "statistics": aggregated signal statistics of every instrument. */
export function statisticsWarming(signals: SignalsService, symbols: readonly string[]): WarmingStrategy {
  return {
    name: 'statistics',
    async run(limit) {
      await Promise.all(symbols.map((symbol) => limit(() => signals.statisticsForSymbol(symbol))));
      return symbols.length;
    },
  };
}
