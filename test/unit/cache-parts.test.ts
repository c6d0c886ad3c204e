import { OperationMetrics } from '../../src/cache/cache-metrics';
import { CacheKeys, isGroupTag, paramsHash } from '../../src/cache/cache-keys';
import { CorruptValueError, decode, encode } from '../../src/cache/codec';
import { escapeGlob, globToRegExp } from '../../src/cache/glob';
import { type Invalidation, InvalidationJournal } from '../../src/cache/invalidation-journal';
import { MemoryTier } from '../../src/cache/memory-tier';
import type { KeptInvalidation } from '../../src/cache/shared-journal';
import { SharedJournalFollower } from '../../src/cache/shared-journal-follower';

describe('cache keys', () => {
  const keys = new CacheKeys('ai_trading');

  it('follow the seed layout', () => {
    expect(keys.user(42)).toBe('ai_trading:users:42');
    expect(keys.user(42, 'statistics')).toBe('ai_trading:users:42:statistics');
    expect(keys.session('abc')).toBe('ai_trading:users:session:abc');
    expect(keys.signals('EUR_USD', 'H1')).toBe('ai_trading:signals:EUR_USD:H1');
    expect(keys.market('EUR_USD', 'H1')).toBe('ai_trading:market:EUR_USD:H1');
    expect(keys.api('prices', { symbols: ['EUR_USD'] })).toMatch(/^ai_trading:api:prices:[0-9a-f]{32}$/);
    expect(new CacheKeys('staging').user(1)).toBe('staging:users:1');
  });

  it('hash parameters stably: key order and undefined members do not matter, values do', () => {
    expect(paramsHash({ a: 1, b: [1, 2], c: undefined })).toBe(paramsHash({ b: [1, 2], a: 1 }));
    expect(paramsHash({ a: 1 })).not.toBe(paramsHash({ a: '1' }));
    expect(paramsHash({ at: new Date('2026-01-01T00:00:00Z') })).toBe(paramsHash({ at: new Date('2026-01-01T00:00:00.000Z') }));
  });

  it('confine patterns to the prefix, escaping it', () => {
    expect(keys.signalsPattern()).toBe('ai_trading:signals:*');
    expect(new CacheKeys('a*b').allPattern()).toBe('a\\*b:*');
    expect(keys.scoped('signals:*')).toBe('ai_trading:signals:*');
  });

  it('give the entries of a user, an instrument or its market data the group tag their invalidations use, and no other entry one', () => {
    expect(keys.groupTagsOf(keys.user(1, 'statistics'))).toEqual([keys.groupTag('users', 1)]);
    expect(keys.groupTagsOf(keys.user(1, 'signals:10'))).toEqual([keys.groupTag('users', 1)]);
    expect(keys.groupTagsOf(keys.signals('EUR_USD', 'list', 'abc'))).toEqual([keys.groupTag('signals', 'EUR_USD')]);
    expect(keys.groupTagsOf(keys.signals('all', 'list', 'abc'))).toEqual([keys.groupTag('signals', 'all')]);
    expect(keys.groupTagsOf(keys.signals('EUR_USD', 'statistics'))).toEqual([keys.groupTag('signals', 'EUR_USD')]);
    expect(keys.groupTagsOf(keys.market('EUR_USD', 'H1'))).toEqual([keys.groupTag('market', 'EUR_USD')]);
    expect(keys.groupTagsOf(keys.marketLastKnown('EUR_USD', 'price'))).toEqual([keys.groupTag('market', 'EUR_USD')]);
    // By key or by CacheTags instead: the profile, sessions, signal records, pages and counts, responses; and other prefixes.
    for (const key of [keys.user(1), keys.session('s1'), keys.signals('id', 3), keys.signalPage('feed', {}), keys.signalCount('feed'), keys.graphqlResponse('x'), new CacheKeys('other').user(1, 'statistics')]) {
      expect(keys.groupTagsOf(key)).toEqual([]);
    }
    expect(isGroupTag(keys.groupTag('users', 1))).toBe(true);
    expect(isGroupTag('User:1')).toBe(false);
  });
});

describe('glob matching (as Redis does it)', () => {
  it.each([
    ['ai_trading:*', 'ai_trading:users:1', true],
    ['ai_trading:*', 'other:users:1', false],
    ['ai_trading:users:?', 'ai_trading:users:1', true],
    ['ai_trading:users:?', 'ai_trading:users:10', false],
    ['ai_trading:[ab]*', 'ai_trading:api:x', true],
    ['ai_trading:[^ab]*', 'ai_trading:api:x', false],
    ['ai_trading:users:1:*', 'ai_trading:users:10:statistics', false],
  ])('%s matches %s: %s', (pattern, key, matches) => {
    expect(globToRegExp(pattern).test(key)).toBe(matches);
  });

  it('makes escaped input match only itself', () => {
    for (const input of ['*', '?', '[a]', 'a\\b', 'x^y']) {
      const matcher = globToRegExp(`p:${escapeGlob(input)}`);
      expect(matcher.test(`p:${input}`)).toBe(true);
      expect(matcher.test('p:anything-else')).toBe(false);
    }
  });
});

describe('the value codec', () => {
  it('round-trips dates, nulls and nested values', () => {
    const value = { at: new Date('2026-11-25T10:00:00.123Z'), list: [null, 1, 'x', { deep: new Date(0) }] };
    expect(decode(encode(value))).toEqual(value);
  });

  it.each(['{"a":', 'undefined', '{"$date":"not a date"}'])('refuses %p as corrupt', (text) => {
    expect(() => decode(text)).toThrow(CorruptValueError);
  });
});

describe('operation metrics', () => {
  it('compute the seed fields from the counts', () => {
    const metrics = new OperationMetrics();
    metrics.record(1, 'hit');
    metrics.record(2, 'hit');
    metrics.record(3, 'hit');
    metrics.record(4, 'miss');
    metrics.record(10, 'error');
    metrics.record(4, 'miss', 1, 3);
    expect(metrics.snapshot()).toEqual({
      hits: 4,
      misses: 4,
      errors: 1,
      total_operations: 6,
      hit_rate: 50,
      error_rate: 16.67,
      average_response_time_ms: 4,
      p50_response_time_ms: 4,
      p99_response_time_ms: 10,
    });
  });

  it('report zeros, not NaN, before any operation', () => {
    expect(new OperationMetrics().snapshot()).toMatchObject({ hit_rate: 0, error_rate: 0, average_response_time_ms: 0, p99_response_time_ms: 0 });
  });
});

describe('the invalidation journal', () => {
  it('keeps invalidations in order until each is confirmed', () => {
    const journal = new InvalidationJournal({ maxEntries: 10, everythingPattern: 'p:*', lossWindowMs: 10_000 });
    const first = { kind: 'keys', keys: ['p:a'] } as const;
    journal.add(first);
    journal.add({ kind: 'pattern', pattern: 'p:b:*' });
    expect(journal.peek()).toBe(first);
    journal.done(first);
    expect(journal.peek()).toEqual({ kind: 'pattern', pattern: 'p:b:*' });
  });

  it('collapses into one namespace-wide invalidation when full', () => {
    const journal = new InvalidationJournal({ maxEntries: 3, everythingPattern: 'p:*', lossWindowMs: 10_000 });
    for (let i = 0; i < 10; i += 1) journal.add({ kind: 'keys', keys: [`p:${i}`] });
    expect(journal.size).toBe(1);
    expect(journal.peek()).toEqual({ kind: 'pattern', pattern: 'p:*' });
  });

  it('leaves to a replay of the shared journal what that journal held when the replay began, and only that', () => {
    const journal = new InvalidationJournal({ maxEntries: 10, everythingPattern: 'p:*', lossWindowMs: 10_000 });
    const shared = { kind: 'keys', keys: ['p:a'] } as const;
    const local = { kind: 'keys', keys: ['p:b'] } as const;
    const sharedLater = { kind: 'keys', keys: ['p:c'] } as const;
    journal.add(shared);
    journal.keptShared(shared);
    journal.add(local);
    const kept = journal.sharedNow();
    journal.add(sharedLater);
    journal.keptShared(sharedLater);
    journal.applied(kept);
    expect(journal.size).toBe(2);
    expect(journal.peek()).toBe(local);
    journal.done(local);
    expect(journal.peek()).toBe(sharedLater);
  });

  describe('after an outage, the invalidations Redis may have lost with it', () => {
    let nowMs = 0;
    const journal = () => new InvalidationJournal({ maxEntries: 3, everythingPattern: 'p:*', lossWindowMs: 1_000, now: () => nowMs });
    const drain = (from: InvalidationJournal) => {
      const replayed = [];
      for (let next = from.peek(); next !== undefined; next = from.peek()) {
        replayed.push(next);
        from.done(next);
      }
      return replayed;
    };
    beforeEach(() => {
      nowMs = 10_000;
    });

    it('reopens those of the loss window before the outage and during it, in order, before the pending ones', () => {
      const subject = journal();
      const tooOld = { kind: 'keys', keys: ['p:old'] } as const;
      const before = { kind: 'keys', keys: ['p:before'] } as const;
      const during = { kind: 'pattern', pattern: 'p:during:*' } as const;
      subject.remember(tooOld);
      nowMs = 10_600;
      subject.remember(before);
      nowMs = 11_500; // the outage began at 11,200: `tooOld` is 1,200 ms before it
      subject.remember(during);
      subject.add(during); // journaled as well, since Redis could not take it: replayed once

      subject.reopen(11_200);
      expect(subject.size).toBe(2);
      expect(drain(subject)).toEqual([before, during]);
    });

    it('reopens them again on the next attempt, and nothing once the window has passed', () => {
      const subject = journal();
      const made = { kind: 'tags', tags: ['users:7'] } as const;
      subject.remember(made);
      subject.reopen(10_500);
      expect(drain(subject)).toEqual([made]);
      // A replay that failed part way: the next attempt starts again from what may be lost.
      subject.reopen(10_500);
      expect(drain(subject)).toEqual([made]);

      nowMs = 20_000;
      subject.remember({ kind: 'keys', keys: ['p:later'] });
      subject.reopen(19_500);
      expect(drain(subject)).toEqual([{ kind: 'keys', keys: ['p:later'] }]);
    });

    it('collapses into one namespace-wide invalidation when the window holds more than it keeps', () => {
      const subject = journal();
      for (let i = 0; i < 5; i += 1) subject.remember({ kind: 'keys', keys: [`p:${i}`] });
      subject.reopen(nowMs);
      // The fourth found three kept: it became the namespace-wide one; the fifth came after it.
      expect(drain(subject)).toEqual([{ kind: 'pattern', pattern: 'p:*' }, { kind: 'keys', keys: ['p:4'] }]);
    });

    it('has nothing to reopen when nothing was invalidated', () => {
      const subject = journal();
      subject.reopen(nowMs);
      expect(subject.size).toBe(0);
    });
  });
});

describe('the memory tier', () => {
  let tier: MemoryTier;
  afterEach(() => tier.close());

  it('holds at most maxItems entries, evicting the least recently used', async () => {
    tier = new MemoryTier({ maxItems: 3, maxBytes: 1_000_000, purgeIntervalMs: 60_000 });
    for (const key of ['a', 'b', 'c']) await tier.set({ key, value: key, ttlSeconds: 60 });
    await tier.get('a');
    await tier.set({ key: 'd', value: 'd', ttlSeconds: 60 });
    expect(await tier.mget(['a', 'b', 'c', 'd'])).toEqual(['a', undefined, 'c', 'd']);
  });

  it('stays within its byte bound', async () => {
    tier = new MemoryTier({ maxItems: 1_000, maxBytes: 10_000, purgeIntervalMs: 60_000 });
    for (let i = 0; i < 100; i += 1) await tier.set({ key: `k${i}`, value: 'x'.repeat(500), ttlSeconds: 60 });
    expect(tier.bytes).toBeLessThanOrEqual(10_000);
    expect(await tier.get('k99')).toBeDefined();
  });

  it('expires entries and purges them without being read', async () => {
    tier = new MemoryTier({ maxItems: 10, maxBytes: 10_000, purgeIntervalMs: 50 });
    await tier.set({ key: 'soon', value: 'x', ttlSeconds: 1 });
    expect(await tier.ttl('soon')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_150));
    expect(tier.size).toBe(0);
  });

  it('deletes by pattern with Redis glob rules', async () => {
    tier = new MemoryTier({ maxItems: 10, maxBytes: 10_000, purgeIntervalMs: 60_000 });
    for (const key of ['p:users:1', 'p:users:1:stats', 'p:users:10']) await tier.set({ key, value: 'v', ttlSeconds: 60 });
    expect(await tier.deletePattern('p:users:1:*')).toBe(1);
    expect(await tier.exists('p:users:10')).toBe(true);
  });
});

describe('the shared journal follower (the memory tier of an instance cut off from Redis)', () => {
  const LOOK_BACK_MS = 10_000;
  const invalidation = (key: string): Invalidation => ({ kind: 'keys', keys: [key] });

  function following(kept: KeptInvalidation[][]) {
    let nowMs = 0;
    const applied: Invalidation[] = [];
    let dropped = 0;
    const reads = [...kept];
    const follower = new SharedJournalFollower(
      { fleetWide: true, add: () => Promise.resolve(), replay: () => Promise.resolve(), recent: () => (reads.length > 0 ? Promise.resolve(reads.shift()!) : Promise.reject(new Error('database down'))) },
      { apply: (given) => applied.push(given), forgetAll: () => (dropped += 1) },
      LOOK_BACK_MS,
      () => nowMs,
    );
    return {
      follower,
      applied,
      dropped: () => dropped,
      at: (ms: number) => {
        nowMs = ms;
      },
    };
  }

  it('applies each invalidation once, though reads overlap, keeping the tier when the first read reaches back to the start of the period', async () => {
    const a = { id: '1', invalidation: invalidation('a') };
    const b = { id: '2', invalidation: invalidation('b') };
    const c = { id: '3', invalidation: invalidation('c') };
    const run = following([[a], [a, b], [b, c]]);
    run.at(1_000);
    await run.follower.follow(0);
    run.at(2_000);
    await run.follower.follow(0);
    run.at(3_000);
    await run.follower.follow(0);
    expect(run.applied).toEqual([a.invalidation, b.invalidation, c.invalidation]);
    expect(run.dropped()).toBe(0);
  });

  it('drops the tier after a gap longer than half the look-back (what fell in it cannot be read), and changes nothing when it cannot read', async () => {
    const run = following([[], [], []]);
    // The first read of the period, long after it began.
    run.at(6_000);
    await run.follower.follow(0);
    expect(run.dropped()).toBe(1);
    run.at(10_000);
    await run.follower.follow(0);
    expect(run.dropped()).toBe(1);
    run.at(15_001);
    await run.follower.follow(0);
    expect(run.dropped()).toBe(2);
    run.at(16_000);
    await expect(run.follower.follow(0)).rejects.toThrow('database down');
    expect(run.dropped()).toBe(2);
  });

  it('starts a new period afresh once Redis serves again', async () => {
    const a = { id: '1', invalidation: invalidation('a') };
    const run = following([[a], [a]]);
    run.at(1_000);
    await run.follower.follow(0);
    run.follower.stop();
    // Back on the memory tier at 20 s: read from then on.
    run.at(20_500);
    await run.follower.follow(20_000);
    expect(run.dropped()).toBe(0);
    expect(run.applied).toEqual([a.invalidation, a.invalidation]);
  });
});
