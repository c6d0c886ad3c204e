import { LRUCache } from 'lru-cache';

import { type Grant, type RatePolicy, take } from './gcra';

/** Viewers whose budgets one process keeps while Redis is away; the least recently seen go first. */
const MAX_VIEWERS = 100_000;

/**
 * Budgets kept in this process: what decides while Redis cannot (down, frozen, slow). Each
 * instance then grants a budget on its own, so a fleet of N lets a viewer spend up to N times its
 * budget during an outage: a limit still, never "no limit" and never "refuse all". A viewer's
 * budget here starts from what Redis last told this instance (follow), not full: a client that
 * has just spent its burst does not get a fresh one because Redis went away.
 */
export class LocalBudgets {
  private readonly tats = new LRUCache<string, number>({ max: MAX_VIEWERS });

  /** As gcra.ts's take, `refund` included. */
  take(viewer: string, nowMs: number, policy: RatePolicy, want: number, min: number, refund: number): Grant {
    const result = take(this.tats.get(viewer), nowMs, policy, want, min, refund);
    if (result.grant.granted > 0 || refund > 0) this.tats.set(viewer, result.tatMs);
    return result.grant;
  }

  /** Notes the TAT the shared budget reported: this budget is never fuller than that. */
  follow(viewer: string, tatMs: number): void {
    const known = this.tats.get(viewer);
    if (known === undefined || known < tatMs) this.tats.set(viewer, tatMs);
  }
}
