import { LRUCache } from 'lru-cache';

import { globToRegExp } from './glob';
import type { Invalidation } from './invalidation-journal';

export interface TaggedLruOptions<Value> {
  /** Most entries held; unbounded by count when absent (the byte bound still holds). */
  readonly maxItems?: number;
  readonly maxBytes: number;
  /** What an entry weighs against `maxBytes`. */
  readonly sizeOf: (value: Value, key: string) => number;
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

  constructor(options: TaggedLruOptions<Value>) {
    this.lru = new LRUCache<string, Value>({
      ...(options.maxItems === undefined ? {} : { max: options.maxItems }),
      maxSize: options.maxBytes,
      sizeCalculation: (value, key) => Math.max(1, options.sizeOf(value, key)),
      ttlAutopurge: false,
      dispose: (_value, key) => this.untag(key),
    });
  }

  get size(): number {
    return this.lru.size;
  }

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
    this.lru.set(key, value, { ttl: ttlMs });
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
