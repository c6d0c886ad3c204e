import { LRUCache } from 'lru-cache';

import { type Grant, type RatePolicy, take } from './gcra';

/** Viewers whose budgets one process keeps while Redis is away; the least recently seen go first. */
const MAX_VIEWERS = 100_000;

/**
 * Budgets kept in this process: what decides while Redis cannot (down, frozen, slow). Each
 * instance then grants a whole budget on its own, so a fleet of N lets a viewer spend up to N
 * times its budget during an outage: a limit still, never "no limit" and never "refuse all".
 */
export class LocalBudgets {
  private readonly tats = new LRUCache<string, number>({ max: MAX_VIEWERS });

  /** As gcra.ts's take, `refund` included. */
  take(viewer: string, nowMs: number, policy: RatePolicy, want: number, min: number, refund: number): Grant {
    const result = take(this.tats.get(viewer), nowMs, policy, want, min, refund);
    if (result.grant.granted > 0 || refund > 0) this.tats.set(viewer, result.tatMs);
    return result.grant;
  }
}
