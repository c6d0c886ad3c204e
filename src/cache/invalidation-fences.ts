import { globToRegExp } from './glob';
import type { Invalidation } from './invalidation-journal';

type Reach = (key: string, tags: readonly string[]) => boolean;

/**
 * Invalidations under way: from the moment this instance makes one, or hears of it on the bus,
 * until its writer has deleted a second time behind every instance's late writes and said so.
 * Until then Redis may still hold what such a late write put back, so nothing that an
 * invalidation under way reaches is kept (in Redis or as a near copy): a read in that window may
 * have seen the old value, and nothing would evict what was kept from it.
 */
export class InvalidationFences {
  private readonly raised = new Map<string, Reach>();

  raise(id: string, invalidation: Invalidation): void {
    this.raised.set(id, reachOf(invalidation));
  }

  get raisedAny(): boolean {
    return this.raised.size > 0;
  }

  /** Whether the fence was still up. */
  lower(id: string): boolean {
    return this.raised.delete(id);
  }

  /** Whether an entry under `key`, tagged `tags`, is reached by an invalidation under way. */
  blocks(key: string, tags: readonly string[]): boolean {
    for (const reaches of this.raised.values()) if (reaches(key, tags)) return true;
    return false;
  }
}

function reachOf(invalidation: Invalidation): Reach {
  switch (invalidation.kind) {
    case 'keys': {
      const keys = new Set(invalidation.keys);
      return (key) => keys.has(key);
    }
    case 'tags': {
      const tags = new Set(invalidation.tags);
      return (_key, entryTags) => entryTags.some((tag) => tags.has(tag));
    }
    case 'pattern': {
      const matcher = globToRegExp(invalidation.pattern);
      return (key) => matcher.test(key);
    }
    case 'batch': {
      const parts = invalidation.parts.map(reachOf);
      return (key, tags) => parts.some((reaches) => reaches(key, tags));
    }
  }
}
