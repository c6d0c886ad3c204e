import type { Invalidation } from './invalidation-journal';
import type { SharedJournal } from './shared-journal';

/** What the follower keeps true: the memory tier of this instance. */
export interface FollowedTier {
  /** Another instance's invalidation (or this one's, again): applied to the memory tier. */
  apply(invalidation: Invalidation): void;
  /** Invalidations may have been missed: nothing the memory tier holds can be trusted. */
  forgetAll(): void;
}

/**
 * Keeps an instance's memory tier coherent with the fleet while that tier serves. Cut off from
 * Redis, an instance hears no invalidation on the bus, and other instances do not wait for it;
 * every invalidation is also kept a while in the shared journal, so the instance reads, at every
 * health check, those kept within a look-back window and applies each one it has not seen yet.
 *
 * A read overlaps the one before (or the start of the period on the memory tier, when the tier
 * was empty) by at least half the window, so an invalidation committed late (its id given before
 * one already read) is still found. A read that does not (the database unreachable meanwhile)
 * cannot tell what the tier missed: the tier is dropped then. What was loaded before such a read
 * may be older than an invalidation committed after it, and that one the next read finds.
 */
export class SharedJournalFollower {
  /** Ids applied, with the time of the read that found them: forgotten once out of every window. */
  private readonly seen = new Map<string, number>();
  /** When the last read that succeeded began; undefined at the start of a period on the memory tier. */
  private lastReadMs: number | undefined;

  constructor(
    private readonly journal: SharedJournal,
    private readonly tier: FollowedTier,
    /** How far back each read reaches; reads further apart than half of it count as a gap. */
    private readonly lookBackMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** One read, `periodStartMs` being when the memory tier (empty then) began to serve; rejects (changing nothing) when the journal cannot be read. */
  async follow(periodStartMs: number): Promise<void> {
    const startedMs = this.now();
    const kept = await this.journal.recent(this.lookBackMs);
    if (startedMs - (this.lastReadMs ?? periodStartMs) > this.lookBackMs / 2) this.tier.forgetAll();
    for (const { id, invalidation } of kept) {
      if (this.seen.has(id)) continue;
      this.seen.set(id, startedMs);
      this.tier.apply(invalidation);
    }
    // In the order they were found: the oldest first.
    for (const [id, foundMs] of this.seen) {
      if (startedMs - foundMs <= this.lookBackMs) break;
      this.seen.delete(id);
    }
    this.lastReadMs = startedMs;
  }

  /** Redis serves again (and the memory tier is dropped): the next period starts afresh. */
  stop(): void {
    this.lastReadMs = undefined;
    this.seen.clear();
  }
}
