import { LRUCache } from 'lru-cache';

import { globToRegExp } from './glob';
import type { Invalidation } from './invalidation-journal';

export interface TaggedLruOptions<Value> {
  /** Most entries held; unbounded by count when absent (the byte bound still holds). */
  readonly maxItems?: number;
  readonly maxBytes: number;
  /** What an entry weighs against `maxBytes`, before its tags (counted here: see `tagBytes`). */
  readonly sizeOf: (value: Value, key: string) => number;
}

/** What one tag of an entry costs in the tag index: its text (as UTF-16), a slot in the entry's list and one in the tag's set. */
const TAG_OVERHEAD_BYTES = 48;
/** An entry's line in the key → tags map. */
const TAGGED_ENTRY_OVERHEAD_BYTES = 32;

function tagBytes(tags: readonly string[]): number {
  if (tags.length === 0) return 0;
  let bytes = TAGGED_ENTRY_OVERHEAD_BYTES;
  for (const tag of tags) bytes += tag.length * 2 + TAG_OVERHEAD_BYTES;
  return bytes;
}

/**
 * An in-process LRU, bounded by bytes (and optionally by count), whose entries expire and can be
 * evicted by key, by Redis glob or by tag: the one store behind the memory tier and the response
 * cache's near copies. The tag index is kept in step with the LRU through its dispose hook, so an
 * evicted or expired entry leaves no tag behind.
 */
export class TaggedLru<Value extends object | string> {
  private readonly lru: LRUCache<string, Value>;
  /** tag → keys, and key → tags. */
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly tagsByKey = new Map<string, readonly string[]>();
  private readonly sizeOf: (value: Value, key: string) => number;

  constructor(options: TaggedLruOptions<Value>) {
    this.sizeOf = options.sizeOf;
    this.lru = new LRUCache<string, Value>({
      ...(options.maxItems === undefined ? {} : { max: options.maxItems }),
      maxSize: options.maxBytes,
      ttlAutopurge: false,
      dispose: (_value, key) => this.untag(key),
    });
  }

  get size(): number {
    return this.lru.size;
  }

  /** What the entries weigh, tags included: never above `maxBytes`. */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get(key: string): Value | undefined {
    return this.lru.get(key);
  }

  has(key: string): boolean {
    return this.lru.has(key);
  }

  /** Milliseconds to live; `undefined` when absent. */
  remainingTtlMs(key: string): number | undefined {
    return this.lru.has(key) ? this.lru.getRemainingTTL(key) : undefined;
  }

  /** Keeps the entry for `ttlMs`, findable by `tags`; an entry larger than the byte bound is refused. */
  set(key: string, value: Value, ttlMs: number, tags: readonly string[] = []): void {
    // Dropped first: lru-cache keeps an equal value's old size, and would not dispose of its old tags.
    this.lru.delete(key);
    this.lru.set(key, value, { ttl: ttlMs, size: Math.max(1, this.sizeOf(value, key)) + tagBytes(tags) });
    // The LRU may refuse an entry larger than its byte bound; only index what it kept.
    if (tags.length === 0 || !this.lru.has(key)) return;
    this.tagsByKey.set(key, tags);
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag);
      if (keys === undefined) this.keysByTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  /** Removes what the invalidation names; returns how many entries went. */
  invalidate(invalidation: Invalidation): number {
    switch (invalidation.kind) {
      case 'keys':
        return this.deleteAll(invalidation.keys);
      case 'pattern': {
        const matcher = globToRegExp(invalidation.pattern);
        return this.deleteAll([...this.lru.keys()].filter((key) => matcher.test(key)));
      }
      case 'tags':
        return this.deleteAll(invalidation.tags.flatMap((tag) => [...(this.keysByTag.get(tag) ?? [])]));
      case 'batch':
        return invalidation.parts.reduce((removed, part) => removed + this.invalidate(part), 0);
    }
  }

  purgeStale(): void {
    this.lru.purgeStale();
  }

  clear(): void {
    this.lru.clear();
  }

  private deleteAll(keys: readonly string[]): number {
    let removed = 0;
    for (const key of keys) if (this.lru.delete(key)) removed += 1;
    return removed;
  }

  private untag(key: string): void {
    const tags = this.tagsByKey.get(key);
    if (tags === undefined) return;
    this.tagsByKey.delete(key);
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
  }
}
