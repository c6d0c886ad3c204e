import { globToRegExp } from './glob';
import type { Invalidation } from './invalidation-journal';

type Covers = (key: string, tags: readonly string[]) => boolean;

/** How many recent invalidations are kept: a load older than that many is suspect whatever it read. */
const KEPT = 1024;

/**
 * The latest invalidations, numbered: what a load that began at a mark must be checked against
 * before its result is written back. Only an invalidation that would have removed the result,
 * had it been written before (its key, a pattern matching it, one of its tags), makes it suspect.
 * A single counter made every load that spanned any invalidation suspect, so a feed evicting one
 * instrument's entries four times a second kept most loads elsewhere from being cached at all.
 * A reset (invalidation messages may have been missed) covers everything, and so does a mark
 * older than what is kept.
 */
export class InvalidationLog {
  private readonly entries: { readonly mark: number; readonly covers: Covers }[] = [];
  private last = 0;

  /** The mark to take before a load. */
  get mark(): number {
    return this.last;
  }

  record(invalidation: Invalidation | 'reset'): void {
    this.last += 1;
    this.entries.push({ mark: this.last, covers: invalidation === 'reset' ? () => true : coverOf(invalidation) });
    if (this.entries.length > KEPT) this.entries.shift();
  }

  /** Whether an invalidation recorded after `mark` would have removed an entry of `key` tagged `tags`. */
  changedSince(mark: number, key: string, tags: readonly string[] = []): boolean {
    if (mark >= this.last) return false;
    const oldest = this.entries[0]?.mark ?? this.last + 1;
    if (mark + 1 < oldest) return true;
    for (let i = this.entries.length - 1; i >= 0 && this.entries[i]!.mark > mark; i -= 1) {
      if (this.entries[i]!.covers(key, tags)) return true;
    }
    return false;
  }
}

/** What an invalidation removes, as the tiers decide it (TaggedLru.invalidate, RedisTier). */
function coverOf(invalidation: Invalidation): Covers {
  switch (invalidation.kind) {
    case 'keys': {
      const keys = new Set(invalidation.keys);
      return (key) => keys.has(key);
    }
    case 'pattern': {
      const matcher = globToRegExp(invalidation.pattern);
      return (key) => matcher.test(key);
    }
    case 'tags': {
      const removed = new Set(invalidation.tags);
      return (_key, tags) => tags.some((tag) => removed.has(tag));
    }
    case 'batch': {
      const parts = invalidation.parts.map(coverOf);
      return (key, tags) => parts.some((covers) => covers(key, tags));
    }
  }
}
