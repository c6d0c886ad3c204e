import { TaggedLru } from '../../src/cache/tagged-lru';

describe('the in-process store behind the near tier and the fallback tier (TaggedLru)', () => {
  const body = 'x'.repeat(1_000);
  /** A board's tags: its 50 signals and their authors, as the entity tagger records them. */
  const boardTags = Array.from({ length: 50 }, (_, index) => [`Signal:${index + 1}`, `User:${index + 1}`]).flat();
  const store = (maxBytes: number) => new TaggedLru<string>({ maxBytes, sizeOf: (value, key) => value.length + key.length });

  it('counts the tags an entry is indexed under, not only its value', () => {
    const plain = store(1_000_000);
    plain.set('board', body, 60_000);
    const tagged = store(1_000_000);
    tagged.set('board', body, 60_000, boardTags);
    expect(tagged.bytes - plain.bytes).toBeGreaterThan(boardTags.length * 48);
  });

  it('when filled past its byte bound, keeps within it, the newest entries, and no tag of an evicted one', () => {
    const lru = store(50_000);
    for (let page = 0; page < 100; page += 1) lru.set(`board:${page}`, body, 60_000, [...boardTags, `Page:${page}`]);
    expect(lru.bytes).toBeLessThanOrEqual(50_000);
    expect(lru.size).toBeLessThan(100);
    expect(lru.has('board:99')).toBe(true);
    expect(lru.has('board:0')).toBe(false);
    expect(lru.invalidate({ kind: 'tags', tags: ['Page:0'] })).toBe(0);
    const kept = lru.size;
    expect(lru.invalidate({ kind: 'tags', tags: ['Signal:1'] })).toBe(kept);
    expect(lru.bytes).toBe(0);
  });

  it('refuses an entry heavier than its whole bound, tags included', () => {
    const lru = store(5_000);
    lru.set('small', body, 60_000);
    lru.set('board', body, 60_000, boardTags);
    expect(lru.has('board')).toBe(false);
    expect(lru.has('small')).toBe(true);
    expect(lru.invalidate({ kind: 'tags', tags: ['Signal:1'] })).toBe(0);
  });

  it('weighs a replaced entry once, by its new tags', () => {
    const lru = store(1_000_000);
    lru.set('board', body, 60_000, boardTags);
    lru.set('board', body, 60_000, ['Signal:1']);
    const single = store(1_000_000);
    single.set('board', body, 60_000, ['Signal:1']);
    expect(lru.bytes).toBe(single.bytes);
    expect(lru.invalidate({ kind: 'tags', tags: ['User:1'] })).toBe(0);
  });
});
