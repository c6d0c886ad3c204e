/*
 * The generic cell rate algorithm (GCRA) over budgets of query cost. A budget is one number, its
 * theoretical arrival time (TAT): the moment at which it would be full again. Spending `n` units
 * moves the TAT `n` emission intervals later; a spend is allowed while the TAT stays within the
 * burst's tolerance of now. One number per viewer, updated in one step: that is what makes it fit
 * one Redis key and one atomic script (redis-budgets.ts runs the same arithmetic in Lua).
 */

/** A budget: refilled at `costPerMinute`, holding at most `burstCost`. `name` names it in the RateLimit headers. */
export interface RatePolicy {
  readonly name: 'user' | 'anonymous' | 'admin';
  readonly costPerMinute: number;
  readonly burstCost: number;
}

/** What a take gave. */
export interface Grant {
  /** Units granted: between `min` and `want`, or 0 when fewer than `min` were left (refused). */
  readonly granted: number;
  /** Units left in the budget after this take. */
  readonly remaining: number;
  /** When refused, ms until `min` units are there; 0 when granted. */
  readonly retryAfterMs: number;
  /** ms until the budget is full again. */
  readonly fullInMs: number;
}

/** Floating-point slack: a budget refilled to exactly n units must not read as n - 0.0000001. */
export const EPSILON = 1e-6;

/** Milliseconds per unit of cost. */
export function emissionMs(policy: RatePolicy): number {
  return 60_000 / policy.costPerMinute;
}

/**
 * Takes up to `want` units, and at least `min`, from a budget whose TAT is `tatMs` (`undefined`: a
 * budget never used, or expired, which is full), after giving back `refund` units taken before and
 * not spent. Returns the grant and the budget's new TAT (moved by the refund even when refused).
 * `min` is at most the burst (the caller caps a cost above it), so a full budget always grants.
 */
export function take(tatMs: number | undefined, nowMs: number, policy: RatePolicy, want: number, min: number, refund = 0): { readonly grant: Grant; readonly tatMs: number } {
  const emission = emissionMs(policy);
  const tolerance = policy.burstCost * emission;
  const tat = Math.max(nowMs, (tatMs ?? nowMs) - refund * emission);
  const available = Math.min(policy.burstCost, Math.floor((tolerance - (tat - nowMs)) / emission + EPSILON));
  const granted = Math.min(want, available);
  if (granted < min) {
    const retryAfterMs = Math.max(1, Math.ceil(tat - nowMs + min * emission - tolerance));
    return { grant: { granted: 0, remaining: Math.max(0, available), retryAfterMs, fullInMs: Math.ceil(tat - nowMs) }, tatMs: tat };
  }
  const next = tat + granted * emission;
  return { grant: { granted, remaining: available - granted, retryAfterMs: 0, fullInMs: Math.ceil(next - nowMs) }, tatMs: next };
}
