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

/**
 * Invalidations that could not reach Redis. They are replayed, in order, before Redis serves a
 * read again, so an outage never resurrects a value that was invalidated during it. Bounded: on
 * overflow the journal collapses into one namespace-wide invalidation, which is always safe.
 */
export class InvalidationJournal {
  private entries: Invalidation[] = [];

  constructor(
    private readonly maxEntries: number,
    private readonly everythingPattern: string,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  add(invalidation: Invalidation): void {
    if (this.coversEverything()) return;
    if (this.entries.length >= this.maxEntries) {
      this.entries = [{ kind: 'pattern', pattern: this.everythingPattern }];
      return;
    }
    this.entries.push(invalidation);
  }

  /** The oldest entry, left in place until `done` confirms it was applied. */
  peek(): Invalidation | undefined {
    return this.entries[0];
  }

  done(invalidation: Invalidation): void {
    if (this.entries[0] === invalidation) this.entries.shift();
  }

  private coversEverything(): boolean {
    const first = this.entries[0];
    return this.entries.length === 1 && first?.kind === 'pattern' && first.pattern === this.everythingPattern;
  }
}
