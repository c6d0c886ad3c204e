import type { WarmingStrategy } from '../warming/warming.service';
import type { MarketService } from './market.service';

/** Seed strategy "market data": current prices of the major instruments, in one upstream call. */
export function marketDataWarming(market: MarketService, symbols: readonly string[]): WarmingStrategy {
  return {
    name: 'market_data',
    async run(limit) {
      const quotes = await limit(() => market.getQuotes(symbols));
      return quotes.filter((quote) => quote !== null).length;
    },
  };
}
