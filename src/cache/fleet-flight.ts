import type { Lease, LeaseManager } from './lease';

export interface FleetFlightOptions {
  /** Longest a caller waits for another instance's load before loading itself; also the lease's life. 0 turns the fleet-wide flight off. */
  readonly waitMs: number;
  /** How often a waiting caller looks for the result. */
  readonly pollMs: number;
}

/**
 * What a load gives: its value, for the caller at once, and the store of that value under way
 * (settles when it has landed, never rejects), which the lease waits for.
 */
export interface Loaded<T> {
  readonly value: T;
  readonly stored: Promise<void>;
}

/** What the cache service and the response cache need of a fleet-wide flight (FleetFlight, or a wrapper of it). */
export interface FleetFlights {
  /** See FleetFlight.run. */
  run<T>(key: string, peek: () => Promise<T | undefined>, load: () => Promise<Loaded<T>>): Promise<{ value: T; joined: boolean }>;
}

/**
 * Single flight across gateway instances: the first instance to miss a key takes a short lease in
 * Redis and loads; the others poll the shared tier for its result instead of loading too. The wait
 * is bounded: if the leader dies, takes too long or stores nothing (an uncacheable result), the
 * waiter loads itself — a fleet-wide flight saves work, it never costs an answer. Without Redis
 * the lease is local and every instance loads (they could not share the result anyway).
 */
export class FleetFlight implements FleetFlights {
  /** Leases still held for stores under way (see run). */
  private readonly releasing = new Set<Promise<void>>();

  constructor(
    private readonly leases: Pick<LeaseManager, 'tryAcquire' | 'isHeld'>,
    /** The lease that stands for a key's load. */
    private readonly leaseKeyOf: (key: string) => string,
    /** While the cache runs on memory, instances cannot share results: no lease is asked for. */
    private readonly redisServing: () => boolean,
    private readonly options: FleetFlightOptions,
  ) {}

  /**
   * `peek` reads the shared result (`undefined` while there is none); `load` computes it and
   * starts storing it. The caller has the value as soon as it is computed, while the lease is
   * held until the store has landed: the others never find the lease gone and the result not
   * there yet. `joined` tells that the value is another instance's result.
   */
  async run<T>(key: string, peek: () => Promise<T | undefined>, load: () => Promise<Loaded<T>>): Promise<{ value: T; joined: boolean }> {
    if (this.options.waitMs === 0 || !this.redisServing()) return { value: (await load()).value, joined: false };
    const leaseKey = this.leaseKeyOf(key);
    // One round trip for both: the lease, and a look for a result that the leader before us may
    // have stored (and released its lease) since our miss. A look that cannot be made is no result.
    const [lease, found] = await Promise.all([this.leases.tryAcquire(leaseKey, this.options.waitMs), peek().catch(() => undefined)]);
    if (lease !== null) {
      let stored: Promise<void> | undefined;
      try {
        if (found !== undefined) return { value: found, joined: true };
        const loaded = await load();
        stored = loaded.stored;
        return { value: loaded.value, joined: false };
      } finally {
        this.releaseAfter(lease, stored);
      }
    }
    if (found !== undefined) return { value: found, joined: true };
    const deadline = Date.now() + this.options.waitMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs));
      const found = await peek();
      if (found !== undefined) return { value: found, joined: true };
      if (!(await this.leases.isHeld(leaseKey))) {
        // The leader stores, then releases: it may have done both between the look above and
        // this check, so one more look before loading (without it, about one cold burst in six
        // on a busy machine loaded twice).
        const stored = await peek();
        if (stored !== undefined) return { value: stored, joined: true };
        break;
      }
    }
    return { value: (await load()).value, joined: false };
  }

  /** Settles once every lease held for a store under way is released (before the connections close). */
  async released(): Promise<void> {
    await Promise.all([...this.releasing]);
  }

  private releaseAfter(lease: Lease, stored: Promise<void> | undefined): void {
    const release = () => lease.release();
    const released = (stored ?? Promise.resolve()).then(release, release);
    this.releasing.add(released);
    void released.finally(() => this.releasing.delete(released));
  }
}
