import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

import { GraphqlRequestError, loadSignalFeed, loadTraderProfile, request } from '../../examples/typed-client';
import {
  CacheHealthDocument,
  CacheMetricsDocument,
  type CacheMetricsQuery,
  CandlesDocument,
  CreateSignalDocument,
  InvalidateUserDocument,
  LatestSignalsDocument,
  type LatestSignalsQuery,
  MeDocument,
  PriceDocument,
  PricesDocument,
  type SignalDirection,
  SignalDocument,
  SignalsDocument,
  SignalStatisticsDocument,
  type Timeframe,
  TriggerCacheWarmingDocument,
  UpdateSignalStatusDocument,
  UpdateUserDocument,
  UsersDocument,
  UserWithSignalsDocument,
  type UserWithSignalsQuery,
  WarmingMetricsDocument,
} from '../../src/generated/graphql';
import { startTestGateway, TEST_ADMIN_TOKEN, type TestGateway, ALICE } from '../helpers/test-gateway';

/**
 * The documents generated from schema/operations/ (`npm run codegen`), run against a real gateway:
 * every operation a front end is given must validate and answer, and its generated types must
 * describe the answer. The type assertions below are checked by the compiler, not at run time.
 */

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<Check extends true>(..._never: Check[]): void {}

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
}, 60_000);

afterAll(() => gateway?.close());

describe('the generated typed documents against the gateway', () => {
  /** Sends `print(document)` through the test helper; the result is typed by the document. */
  async function run<TResult, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables, token?: string): Promise<TResult> {
    const result = await gateway.graphql<TResult>(print(document), variables, token);
    expect(result.errors).toBeUndefined();
    expect(result.status).toBe(200);
    return result.data as TResult;
  }

  describe('users', () => {
    it('UserWithSignals: a profile with statistics and the newest signals, email hidden from strangers', async () => {
      const { user } = await run(UserWithSignalsDocument, { id: 1, signalLimit: 3 });
      assertType<Equal<NonNullable<UserWithSignalsQuery['user']>['email'], string | null | undefined>>();
      expect(user).not.toBeNull();
      expect(user!.username).toBe('alice');
      expect(user!.email).toBeNull();
      expect(user!.signals.length).toBeLessThanOrEqual(3);
      expect(user!.signals.length).toBe(Math.min(3, user!.statistics.totalSignals));
      const timeframes: Timeframe[] = user!.signals.map((signal) => signal.timeframe);
      expect(timeframes.every((timeframe) => ['M1', 'M5', 'M15', 'H1', 'H4', 'D1'].includes(timeframe))).toBe(true);
    });

    it('UserWithSignals: the owner sees their email; an unknown id is null', async () => {
      expect((await run(UserWithSignalsDocument, { id: 1, signalLimit: 1 }, ALICE)).user?.email).toEqual(expect.stringContaining('@'));
      expect((await run(UserWithSignalsDocument, { id: 999_999, signalLimit: 1 })).user).toBeNull();
    });

    it('Users and Me', async () => {
      const { users } = await run(UsersDocument, { ids: [2, 999_999, 1] });
      expect(users.map((user) => user?.username ?? null)).toEqual(['bob', null, 'alice']);
      expect((await run(MeDocument, {}, ALICE)).me?.username).toBe('alice');
      expect((await run(MeDocument, {})).me).toBeNull();
    });

    it('UpdateUser: the user changes their display name', async () => {
      const { updateUser } = await run(UpdateUserDocument, { id: 1, input: { displayName: 'Alice (typed)' } }, ALICE);
      expect(updateUser).toMatchObject({ id: 1, displayName: 'Alice (typed)' });
      expect(Date.parse(updateUser.updatedAt)).not.toBeNaN();
    });
  });

  describe('signals', () => {
    it('LatestSignals: signals of the instrument with their authors and current prices', async () => {
      const { latestSignals } = await run(LatestSignalsDocument, { symbols: ['EUR_USD'], perSymbol: 3 });
      assertType<Equal<LatestSignalsQuery['latestSignals'][number]['direction'], SignalDirection>>();
      assertType<Equal<SignalDirection, 'BUY' | 'SELL'>>();
      expect(latestSignals.length).toBeGreaterThan(0);
      for (const signal of latestSignals) {
        expect(signal.symbol).toBe('EUR_USD');
        expect(typeof signal.user?.username).toBe('string');
        expect(signal.currentPrice!.ask).toBeGreaterThan(signal.currentPrice!.bid);
        expect(signal.confidence).toBeGreaterThanOrEqual(0);
      }
    });

    it('Signals, Signal and SignalStatistics agree', async () => {
      const { signals } = await run(SignalsDocument, { symbol: 'GBP_USD', status: 'ACTIVE', limit: 5 });
      expect(signals.length).toBeGreaterThan(0);
      expect(signals.every((signal) => signal.symbol === 'GBP_USD' && signal.status === 'ACTIVE')).toBe(true);
      const { signal } = await run(SignalDocument, { id: signals[0]!.id });
      expect(signal).toMatchObject({ id: signals[0]!.id, user: { id: signals[0]!.userId } });
      const { signalStatistics } = await run(SignalStatisticsDocument, { symbol: 'GBP_USD' });
      expect(signalStatistics.activeSignals).toBeGreaterThanOrEqual(signals.length);
      expect(signalStatistics.buySignals + signalStatistics.sellSignals).toBe(signalStatistics.totalSignals);
    });

    it('CreateSignal then UpdateSignalStatus, as the signed-in author', async () => {
      const { createSignal } = await run(
        CreateSignalDocument,
        { input: { symbol: 'EUR_USD', timeframe: 'H1', direction: 'BUY', entryPrice: 1.08, stopLoss: 1.07, takeProfit: 1.1, confidence: 0.8 } },
        ALICE,
      );
      expect(createSignal).toMatchObject({ userId: 1, status: 'ACTIVE', direction: 'BUY' });
      const { updateSignalStatus } = await run(UpdateSignalStatusDocument, { id: createSignal.id, status: 'CANCELLED' }, ALICE);
      expect(updateSignalStatus).toMatchObject({ id: createSignal.id, status: 'CANCELLED' });
    });
  });

  describe('market', () => {
    it('Price, Prices and Candles', async () => {
      const { price } = await run(PriceDocument, { symbol: 'USD_JPY' });
      expect(price?.mid).toBeCloseTo((price!.bid + price!.ask) / 2, 6);
      const { prices } = await run(PricesDocument, { symbols: ['EUR_USD', 'XXX_YYY'] });
      expect(prices.map((quote) => quote?.symbol ?? null)).toEqual(['EUR_USD', null]);
      const { candles } = await run(CandlesDocument, { symbol: 'EUR_USD', timeframe: 'H1', count: 24 });
      expect(candles).toHaveLength(24);
      for (const candle of candles) expect(candle.high).toBeGreaterThanOrEqual(candle.low);
    });
  });

  describe('operator', () => {
    it('CacheMetrics, CacheHealth and WarmingMetrics', async () => {
      const { cacheMetrics } = await run(CacheMetricsDocument, {});
      assertType<Equal<CacheMetricsQuery['cacheMetrics']['tiers'][number]['metrics']['hitRate'], number>>();
      expect(cacheMetrics.tiers.map((tier) => tier.tier).sort()).toEqual(['memory', 'redis']);
      expect(cacheMetrics.totalOperations).toBeGreaterThan(0);
      expect(cacheMetrics.responseCache?.executions).toBeGreaterThan(0);
      const { cacheHealth } = await run(CacheHealthDocument, {});
      expect(['HEALTHY', 'DEGRADED', 'UNHEALTHY']).toContain(cacheHealth.status);
      const { warmingMetrics } = await run(WarmingMetricsDocument, {});
      expect(warmingMetrics.enabled).toBe(false);
    });

    it('InvalidateUser and TriggerCacheWarming with the admin token, refused without it', async () => {
      const { invalidateCache } = await run(InvalidateUserDocument, { id: 1 }, TEST_ADMIN_TOKEN);
      expect(invalidateCache).toEqual({ __typename: 'InvalidationResult', scope: 'USER', removed: expect.any(Number) });
      const refused = await gateway.graphql(print(InvalidateUserDocument), { id: 1 });
      expect(refused.errors?.[0]?.extensions?.code).toMatch(/^(UNAUTHENTICATED|FORBIDDEN)$/);
      const { triggerCacheWarming } = await run(TriggerCacheWarmingDocument, { strategies: ['MARKET_DATA'] }, TEST_ADMIN_TOKEN);
      expect(typeof triggerCacheWarming.ran).toBe('boolean');
    });
  });
});

describe('examples/typed-client.ts against the gateway', () => {
  let endpoint: string;

  beforeAll(() => {
    endpoint = `${gateway.url}/graphql`;
  });

  it('request() resolves to the typed data of a document', async () => {
    const data = await request(CandlesDocument, { symbol: 'EUR_USD', timeframe: 'M5', count: 3 }, { endpoint });
    expect(data.candles).toHaveLength(3);
    expect(typeof data.candles[0]!.close).toBe('number');
  });

  it('loads a trader profile and a signal feed', async () => {
    const alice = await loadTraderProfile(1, { endpoint, token: ALICE });
    expect(alice?.username).toBe('alice');
    expect(alice?.email).toEqual(expect.stringContaining('@'));
    const feed = await loadSignalFeed(['EUR_USD', 'USD_JPY'], { endpoint });
    expect(feed.length).toBeGreaterThan(0);
    expect(feed[0]).toMatch(/^(EUR_USD|USD_JPY) (BUY|SELL) @ [\d.]+ by \S+ \(now [\d.]+\/[\d.]+\)$/);
  });

  it('rejects with the GraphQL error codes', async () => {
    const failure = await request(LatestSignalsDocument, { symbols: ['eurusd'] }, { endpoint }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GraphqlRequestError);
    expect((failure as GraphqlRequestError).errors[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const forbidden = await request(InvalidateUserDocument, { id: 1 }, { endpoint }).catch((error: unknown) => error);
    expect((forbidden as GraphqlRequestError).message).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
  });
});
