import type { LeaseManager } from './lease';

export interface FleetFlightOptions {
  /** Longest a caller waits for another instance's load before loading itself; also the lease's life. 0 turns the fleet-wide flight off. */
  readonly waitMs: number;
  /** How often a waiting caller looks for the result. */
  readonly pollMs: number;
}

/** What the cache service and the response cache need of a fleet-wide flight (FleetFlight, or a wrapper of it). */
export interface FleetFlights {
  /** See FleetFlight.run. */
  run<T>(key: string, peek: () => Promise<T | undefined>, load: () => Promise<T>): Promise<{ value: T; joined: boolean }>;
}

/**
 * Single flight across gateway instances: the first instance to miss a key takes a short lease in
 * Redis and loads; the others poll the shared tier for its result instead of loading too. The wait
 * is bounded: if the leader dies, takes too long or stores nothing (an uncacheable result), the
 * waiter loads itself — a fleet-wide flight saves work, it never costs an answer. Without Redis
 * the lease is local and every instance loads (they could not share the result anyway).
 */
export class FleetFlight implements FleetFlights {
  constructor(
    private readonly leases: Pick<LeaseManager, 'tryAcquire' | 'isHeld'>,
    /** The lease that stands for a key's load. */
    private readonly leaseKeyOf: (key: string) => string,
    /** While the cache runs on memory, instances cannot share results: no lease is asked for. */
    private readonly redisServing: () => boolean,
    private readonly options: FleetFlightOptions,
  ) {}

  /**
   * `peek` reads the shared result (`undefined` while there is none); `load` computes and stores
   * it, and runs under the lease so that the lease is released only once the result is stored.
   * `joined` tells that the value is another instance's result.
   */
  async run<T>(key: string, peek: () => Promise<T | undefined>, load: () => Promise<T>): Promise<{ value: T; joined: boolean }> {
    if (this.options.waitMs === 0 || !this.redisServing()) return { value: await load(), joined: false };
    const leaseKey = this.leaseKeyOf(key);
    const lease = await this.leases.tryAcquire(leaseKey, this.options.waitMs);
    if (lease !== null) {
      try {
        // The leader before us may have stored and released between our miss and our lease.
        const stored = await peek();
        return stored === undefined ? { value: await load(), joined: false } : { value: stored, joined: true };
      } finally {
        await lease.release();
      }
    }
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
    return { value: await load(), joined: false };
  }
}
