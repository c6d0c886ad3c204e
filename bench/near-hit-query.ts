/** The tracing benches' request: a board of 24 signals with author and price, answered as a near hit once cached. */
export const NEAR_HIT_QUERY = `query Board($symbol: String!, $limit: Int!) {
  signals(symbol: $symbol, limit: $limit) {
    id symbol timeframe direction status entryPrice stopLoss takeProfit confidence createdAt
    user { id username displayName }
    currentPrice { bid ask mid }
  }
}`;
export const NEAR_HIT_BODY = JSON.stringify({ query: NEAR_HIT_QUERY, variables: { symbol: 'EUR_USD', limit: 24 } });
