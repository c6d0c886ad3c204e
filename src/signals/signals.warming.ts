import type { WarmingStrategy } from '../warming/warming.service';
import type { SignalsService } from './signals.service';

/** The page the front end asks for first: an instrument's newest 50 signals. */
const DEFAULT_PAGE = 50;
const LATEST_PER_SYMBOL = 5;
/** The first page of an instrument's feed as the generated SignalFeed operation asks for it (`first: 20`). */
const FEED_PAGE = 20;

/** Seed strategy "signals": latest signals, and the first page of every instrument's list and of its paged feed (with its count). */
export function signalsWarming(signals: SignalsService, symbols: readonly string[]): WarmingStrategy {
  return {
    name: 'signals_data',
    async run(limit) {
      await Promise.all([
        limit(() => signals.latestBySymbols(symbols, LATEST_PER_SYMBOL)),
        ...symbols.map((symbol) => limit(() => signals.listSignals({ symbol, limit: DEFAULT_PAGE }))),
        ...symbols.map((symbol) => limit(() => signals.pageSignals({ symbol }, { direction: 'forward', size: FEED_PAGE }))),
        ...symbols.map((symbol) => limit(() => signals.countSignals({ symbol }))),
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
