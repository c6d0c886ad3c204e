import { randomBytes } from 'node:crypto';

import type { Logger } from '../logger';
import type { RedisTier } from './redis-tier';

export interface Lease {
  /** False when Redis could not be asked: only this process is excluded, not other instances. */
  readonly shared: boolean;
  release(): Promise<void>;
  /** Keeps a shared lease for `ttlMs` more; false when it was lost (expired and taken by another) or Redis cannot be asked. */
  renew(ttlMs: number): Promise<boolean>;
}

/**
 * Short leases in Redis (SET NX PX), so that a job such as cache warming runs on one gateway
 * instance at a time. The lease expires by itself if its holder dies. When Redis is unreachable
 * the lease is granted locally: instances cannot coordinate then, and a job must still run.
 */
export class LeaseManager {
  private readonly heldLocally = new Set<string>();

  constructor(
    private readonly redis: RedisTier,
    private readonly logger: Logger,
  ) {}

  /** `null` when another holder (this process or another instance) has the lease. */
  async tryAcquire(key: string, ttlMs: number): Promise<Lease | null> {
    if (this.heldLocally.has(key)) return null;
    this.heldLocally.add(key);
    const token = randomBytes(16).toString('hex');
    let shared: boolean;
    try {
      if (!(await this.redis.setIfAbsent(key, token, ttlMs))) {
        this.heldLocally.delete(key);
        return null;
      }
      shared = true;
    } catch (error) {
      this.logger.debug({ err: error, key }, 'lease: Redis unavailable, granting a local lease');
      shared = false;
    }
    return {
      shared,
      release: async () => {
        this.heldLocally.delete(key);
        if (shared) await this.redis.deleteIfEquals(key, token).catch(() => undefined);
      },
      renew: async (ttlMs) => shared && (await this.redis.extendIfEquals(key, token, ttlMs).catch(() => false)),
    };
  }

  /** Whether anyone holds the lease now; `false` when Redis cannot be asked (no one can wait on it then). */
  async isHeld(key: string): Promise<boolean> {
    return this.heldLocally.has(key) || (await this.redis.exists(key).catch(() => false));
  }
}
