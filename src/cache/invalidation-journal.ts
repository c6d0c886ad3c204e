/** One kind of removal: exact keys, the keys matching a glob, or the entries written with a tag. */
export type InvalidationPart =
  | { readonly kind: 'keys'; readonly keys: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: string }
  | { readonly kind: 'tags'; readonly tags: readonly string[] };

/**
 * What an invalidation removes: one part, or several that are applied, journaled and announced
 * together (everything one write changes: one acknowledgement round across the fleet, not one per part).
 */
export type Invalidation = InvalidationPart | { readonly kind: 'batch'; readonly parts: readonly InvalidationPart[] };

export interface InvalidationJournalOptions {
  /** Entries kept (pending, and recent) before they collapse into one namespace-wide invalidation. */
  readonly maxEntries: number;
  /** The glob of this product's whole namespace: the invalidation that covers every other. */
  readonly everythingPattern: string;
  /** How long before an outage an invalidation made or heard of is replayed after it (see `reopen`). */
  readonly lossWindowMs: number;
  readonly now?: () => number;
}

/**
 * Invalidations that could not reach Redis. They are replayed, in order, before Redis serves a
 * read again, so an outage never resurrects a value that was invalidated during it. Bounded: on
 * overflow the journal collapses into one namespace-wide invalidation, which is always safe.
 *
 * It also remembers every invalidation of the last `lossWindowMs`, made here or announced by
 * another instance: Redis acknowledges a write before its replicas have it (and before its
 * append-only file has it on disk), so the replica a failover promotes, or a server restarted
 * after a crash, may still hold what they removed. An outage reopens them (`reopen`), and they
 * are replayed with the rest before Redis serves again. More than `maxEntries` in the window
 * collapse too: after an outage at such a rate of writes, the whole namespace is invalidated.
 */
export class InvalidationJournal {
  private entries: Invalidation[] = [];
  /** Pending entries the shared journal holds too (see keptShared): replaying that one applies them. */
  private readonly shared = new Set<Invalidation>();
  /** The invalidations of the loss window, oldest first, with when they were made or heard of (this instance's clock). */
  private recent: { readonly invalidation: Invalidation; readonly atMs: number }[] = [];
  private readonly now: () => number;

  constructor(private readonly options: InvalidationJournalOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.length;
  }

  add(invalidation: Invalidation): void {
    if (this.coversEverything()) return;
    if (this.entries.length >= this.options.maxEntries) {
      this.collapse();
      return;
    }
    this.entries.push(invalidation);
  }

  /** `invalidation`, pending here, is in the shared journal too (SharedJournal.add succeeded). */
  keptShared(invalidation: Invalidation): void {
    if (this.entries.includes(invalidation)) this.shared.add(invalidation);
  }

  /** The pending entries the shared journal holds, as of now: take it before that journal is replayed, then `applied`. */
  sharedNow(): ReadonlySet<Invalidation> {
    return new Set(this.shared);
  }

  /** Entries a replay of the shared journal has applied: not replayed from here a second time. */
  applied(entries: ReadonlySet<Invalidation>): void {
    if (entries.size === 0) return;
    this.entries = this.entries.filter((entry) => !entries.has(entry));
    for (const entry of entries) this.shared.delete(entry);
  }

  /** The oldest entry, left in place until `done` confirms it was applied. */
  peek(): Invalidation | undefined {
    return this.entries[0];
  }

  done(invalidation: Invalidation): void {
    if (this.entries[0] === invalidation) this.entries.shift();
    this.shared.delete(invalidation);
  }

  /** An invalidation was made or heard of: for a while it may have to be applied again. */
  remember(invalidation: Invalidation): void {
    const atMs = this.now();
    this.forgetBefore(atMs - this.options.lossWindowMs);
    if (this.recent.length >= this.options.maxEntries) this.recent = [{ invalidation: this.everything(), atMs }];
    else this.recent.push({ invalidation, atMs });
  }

  /**
   * Redis has been unreachable since `sinceMs`: whatever it took in the loss window before then
   * may be missing when it serves again. Those invalidations go before the pending ones (they
   * came first), and are replayed with them.
   */
  reopen(sinceMs: number): void {
    this.forgetBefore(sinceMs - this.options.lossWindowMs);
    const pending = new Set(this.entries);
    const reopened = this.recent.map(({ invalidation }) => invalidation).filter((invalidation) => !pending.has(invalidation));
    if (reopened.length === 0 || this.coversEverything()) return;
    this.entries = [...reopened, ...this.entries];
    if (this.entries.length > this.options.maxEntries) this.collapse();
  }

  private forgetBefore(ms: number): void {
    const kept = this.recent.findIndex((entry) => entry.atMs >= ms);
    this.recent = kept === -1 ? [] : this.recent.slice(kept);
  }

  /** Everything pending becomes one namespace-wide invalidation, which the shared journal does not hold. */
  private collapse(): void {
    this.entries = [this.everything()];
    this.shared.clear();
  }

  private everything(): Invalidation {
    return { kind: 'pattern', pattern: this.options.everythingPattern };
  }

  private coversEverything(): boolean {
    const first = this.entries[0];
    return this.entries.length === 1 && first?.kind === 'pattern' && first.pattern === this.options.everythingPattern;
  }
}
