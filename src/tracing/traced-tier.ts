import type { Attributes, Span } from '@opentelemetry/api';

import type { CacheEntry, CacheTier, TierName } from '../cache/cache-tier';
import { endAfter, type Tracing } from './tracing';

/**
 * A cache tier whose operations are spans (`cache.get`, `cache.mset`, …) with the tier's name, so
 * that a trace shows which tier answered: Redis, or the memory tier while Redis is down. Leaf
 * spans: nothing runs under them, so no context is switched.
 */
export class TracedTier implements CacheTier {
  private readonly attributes: Attributes;

  constructor(
    private readonly inner: CacheTier,
    private readonly tracing: Tracing,
  ) {
    this.attributes = { 'cache.tier': inner.name, ...(inner.name === 'redis' ? { 'db.system.name': 'redis' } : {}) };
  }

  get name(): TierName {
    return this.inner.name;
  }

  get(key: string): Promise<string | undefined> {
    return endAfter(this.span('get', 1), () => this.inner.get(key), (span, value) => span.setAttribute('cache.hits', value === undefined ? 0 : 1));
  }

  mget(keys: readonly string[]): Promise<(string | undefined)[]> {
    return endAfter(this.span('mget', keys.length), () => this.inner.mget(keys), (span, values) => span.setAttribute('cache.hits', values.filter((value) => value !== undefined).length));
  }

  set(entry: CacheEntry): Promise<void> {
    return endAfter(this.span('set', 1), () => this.inner.set(entry));
  }

  mset(entries: readonly CacheEntry[]): Promise<void> {
    return endAfter(this.span('mset', entries.length), () => this.inner.mset(entries));
  }

  exists(key: string): Promise<boolean> {
    return endAfter(this.span('exists', 1), () => this.inner.exists(key));
  }

  ttl(key: string): Promise<number | undefined> {
    return endAfter(this.span('ttl', 1), () => this.inner.ttl(key));
  }

  delete(keys: readonly string[]): Promise<number> {
    return endAfter(this.span('delete', keys.length), () => this.inner.delete(keys));
  }

  deletePattern(pattern: string): Promise<number> {
    return endAfter(this.span('deletePattern', 1), () => this.inner.deletePattern(pattern));
  }

  deleteTagged(tags: readonly string[]): Promise<number> {
    return endAfter(this.span('deleteTagged', tags.length), () => this.inner.deleteTagged(tags));
  }

  private span(operation: string, keys: number): Span | undefined {
    const span = this.tracing.startChild(`cache.${operation}`, this.attributes);
    span?.setAttribute('cache.keys', keys);
    return span;
  }
}
