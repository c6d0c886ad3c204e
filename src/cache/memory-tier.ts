import { LRUCache } from 'lru-cache';

import type { CacheEntry, CacheTier } from './cache-tier';
import { globToRegExp } from './glob';

export interface MemoryTierOptions {
  /** Most entries held (CACHE_FALLBACK_MAX_ITEMS, default 1000). */
  readonly maxItems: number;
  /** Most bytes held, keys and values counted as UTF-16. */
  readonly maxBytes: number;
  /** How often expired entries are dropped even if nobody reads them. */
  readonly purgeIntervalMs: number;
}

/** In-process LRU, bounded by count and bytes; least recently used entries go first. */
export class MemoryTier implements CacheTier {
  readonly name = 'memory';
  private readonly lru: LRUCache<string, string>;
  private readonly purgeTimer: NodeJS.Timeout;
  /** tag → keys, and key → tags, kept in step with the LRU through its dispose hook. */
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly tagsByKey = new Map<string, readonly string[]>();

  constructor(options: MemoryTierOptions) {
    this.lru = new LRUCache<string, string>({
      max: options.maxItems,
      maxSize: options.maxBytes,
      sizeCalculation: (value, key) => Math.max(1, (value.length + key.length) * 2),
      ttlAutopurge: false,
      dispose: (_value, key) => this.untag(key),
    });
    this.purgeTimer = setInterval(() => this.lru.purgeStale(), options.purgeIntervalMs);
    this.purgeTimer.unref();
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.lru.get(key));
  }

  mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.lru.get(key)));
  }

  set(entry: CacheEntry): Promise<void> {
    this.store(entry);
    return Promise.resolve();
  }

  mset(entries: readonly CacheEntry[]): Promise<void> {
    for (const entry of entries) this.store(entry);
    return Promise.resolve();
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(this.lru.has(key));
  }

  ttl(key: string): Promise<number | undefined> {
    if (!this.lru.has(key)) return Promise.resolve(undefined);
    return Promise.resolve(Math.ceil(this.lru.getRemainingTTL(key) / 1000));
  }

  delete(keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (const key of keys) if (this.lru.delete(key)) removed += 1;
    return Promise.resolve(removed);
  }

  deletePattern(pattern: string): Promise<number> {
    const matcher = globToRegExp(pattern);
    let removed = 0;
    for (const key of [...this.lru.keys()]) {
      if (matcher.test(key) && this.lru.delete(key)) removed += 1;
    }
    return Promise.resolve(removed);
  }

  deleteTagged(tags: readonly string[]): Promise<number> {
    let removed = 0;
    for (const tag of tags) {
      for (const key of [...(this.keysByTag.get(tag) ?? [])]) if (this.lru.delete(key)) removed += 1;
    }
    return Promise.resolve(removed);
  }

  /** Drops every entry: after an outage, what was written here may be stale. */
  clear(): void {
    this.lru.clear();
  }

  private store(entry: CacheEntry): void {
    this.lru.set(entry.key, entry.value, { ttl: entry.ttlSeconds * 1000 });
    // The LRU may refuse an entry larger than its byte bound; only index what it kept.
    if (entry.tags === undefined || entry.tags.length === 0 || !this.lru.has(entry.key)) return;
    this.tagsByKey.set(entry.key, entry.tags);
    for (const tag of entry.tags) {
      let keys = this.keysByTag.get(tag);
      if (keys === undefined) this.keysByTag.set(tag, (keys = new Set()));
      keys.add(entry.key);
    }
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

  close(): void {
    clearInterval(this.purgeTimer);
  }
}
