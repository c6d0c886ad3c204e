import { CacheKeys } from '../../src/cache/cache-keys';
import { FamilyLookups, MeasuredTier } from '../../src/cache/cache-metrics';
import { MemoryTier } from '../../src/cache/memory-tier';
import type { CacheTier } from '../../src/cache/cache-tier';
import { NullTier } from '../../src/cache/null-tier';

describe('cache lookups by kind of data', () => {
  const keys = new CacheKeys('ai_trading');

  it('name the kind of every key the gateway spells', () => {
    expect(keys.familyOf(keys.user(42))).toBe('users');
    expect(keys.familyOf(keys.user(42, 'statistics'))).toBe('users');
    expect(keys.familyOf(keys.session('abc'))).toBe('sessions');
    expect(keys.familyOf(keys.signals('id', 7))).toBe('signals');
    expect(keys.familyOf(keys.signalPage('all', { first: 20 }))).toBe('signals');
    expect(keys.familyOf(keys.market('EUR_USD', 'price'))).toBe('market');
    expect(keys.familyOf(keys.marketLastKnown('EUR_USD', 'price'))).toBe('market');
    expect(keys.familyOf(keys.graphqlResponse('0123'))).toBe('responses');
    expect(keys.familyOf(keys.persistedDocument('0123'))).toBe('other');
    expect(keys.familyOf('ai_trading_other:users:1')).toBe('other');
  });

  it('are counted per key, hits and misses, whichever tier answers', async () => {
    const memory = new MemoryTier({ maxItems: 10, maxBytes: 1 << 20, purgeIntervalMs: 60_000 });
    const families = new FamilyLookups((key) => keys.familyOf(key));
    const tier = new MeasuredTier(memory, families);
    await tier.set({ key: keys.user(1), value: '"alice"', ttlSeconds: 60 });
    await tier.mget([keys.user(1), keys.user(2), keys.market('EUR_USD', 'price')]);
    await tier.get(keys.user(1));
    expect(families.snapshot().get('users')).toEqual({ hits: 2, misses: 1 });
    expect(families.snapshot().get('market')).toEqual({ hits: 0, misses: 1 });
    expect(families.snapshot().get('signals')).toEqual({ hits: 0, misses: 0 });
    memory.close();
  });
});

describe('the null tier (CACHE_ENABLED=false)', () => {
  it('keeps nothing: what was written is never found, and nothing is there to delete', async () => {
    const tier: CacheTier = new NullTier('redis');
    await tier.mset([{ key: 'k', value: '1', ttlSeconds: 60, tags: ['User:1'] }]);
    expect(await tier.get('k')).toBeUndefined();
    expect(await tier.mget(['k', 'j'])).toEqual([undefined, undefined]);
    expect(await tier.exists('k')).toBe(false);
    expect(await tier.ttl('k')).toBeUndefined();
    expect(await tier.deleteTagged(['User:1'])).toBe(0);
  });
});
