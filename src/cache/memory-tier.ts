import type { CacheEntry, CacheTier } from './cache-tier';
import { TaggedLru } from './tagged-lru';

export interface MemoryTierOptions {
  /** Most entries held (CACHE_FALLBACK_MAX_ITEMS, default 1000). */
  readonly maxItems: number;
  /** Most bytes held, keys and values counted as UTF-16. */
  readonly maxBytes: number;
  /** How often expired entries are dropped even if nobody reads them. */
  readonly purgeIntervalMs: number;
}

/** The in-process tier: a TaggedLru of encoded values behind the CacheTier interface; least recently used entries go first. */
export class MemoryTier implements CacheTier {
  readonly name = 'memory';
  private readonly store: TaggedLru<string>;
  private readonly purgeTimer: NodeJS.Timeout;

  constructor(options: MemoryTierOptions) {
    this.store = new TaggedLru<string>({ maxItems: options.maxItems, maxBytes: options.maxBytes, sizeOf: (value, key) => (value.length + key.length) * 2 });
    this.purgeTimer = setInterval(() => this.store.purgeStale(), options.purgeIntervalMs);
    this.purgeTimer.unref();
  }

  get size(): number {
    return this.store.size;
  }

  get bytes(): number {
    return this.store.bytes;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.store.get(key));
  }

  mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    return Promise.resolve(keys.map((key) => this.store.get(key)));
  }

  set(entry: CacheEntry): Promise<void> {
    return this.mset([entry]);
  }

  mset(entries: readonly CacheEntry[]): Promise<void> {
    for (const entry of entries) this.store.set(entry.key, entry.value, entry.ttlSeconds * 1000, entry.tags);
    return Promise.resolve();
  }

  exists(key: string): Promise<boolean> {
    return Promise.resolve(this.store.has(key));
  }

  ttl(key: string): Promise<number | undefined> {
    const remainingMs = this.store.remainingTtlMs(key);
    return Promise.resolve(remainingMs === undefined ? undefined : Math.ceil(remainingMs / 1000));
  }

  delete(keys: readonly string[]): Promise<number> {
    return Promise.resolve(this.store.invalidate({ kind: 'keys', keys }));
  }

  deletePattern(pattern: string): Promise<number> {
    return Promise.resolve(this.store.invalidate({ kind: 'pattern', pattern }));
  }

  deleteTagged(tags: readonly string[]): Promise<number> {
    return Promise.resolve(this.store.invalidate({ kind: 'tags', tags }));
  }

  /** Drops every entry: after an outage, what was written here may be stale. */
  clear(): void {
    this.store.clear();
  }

  close(): void {
    clearInterval(this.purgeTimer);
  }
}
