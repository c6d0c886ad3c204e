import type { SharedScripts } from '../cache/create-cache';
import { EPSILON, emissionMs, type Grant, type RatePolicy } from './gcra';

/**
 * gcra.ts's `take`, in Lua, on one key: atomic, and on a Cluster within one slot. The caller's
 * clock is passed in (ARGV[1]) rather than read with TIME, so that the local limiter and this
 * script keep one notion of time (and tests can move it); instances of a fleet run NTP-synced
 * clocks, milliseconds apart, well under a unit's emission interval at any sensible rate. The TAT
 * is written with 17 significant digits (Lua's tostring would round it to 14), and expires when
 * the budget is full again: an idle viewer costs Redis nothing.
 *
 * Replies {granted, remaining, retryAfterMs, fullInMs}: Redis turns Lua numbers into integers.
 */
const TAKE = `
local now = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local min = tonumber(ARGV[5])
local epsilon = tonumber(ARGV[6])
local refund = tonumber(ARGV[7])
local tolerance = burst * emission
local tat = tonumber(redis.call('GET', KEYS[1])) or now
tat = math.max(now, tat - refund * emission)
local available = math.min(burst, math.floor((tolerance - (tat - now)) / emission + epsilon))
local granted = math.min(want, available)
if granted < min then
  if refund > 0 and tat > now then redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1) end
  local retry = math.max(1, math.ceil(tat - now + min * emission - tolerance))
  return {0, math.max(0, available), retry, math.ceil(tat - now)}
end
tat = tat + granted * emission
redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1)
return {granted, available - granted, 0, math.ceil(tat - now)}
`;

/** Budgets in Redis, shared by every instance. Rejects when Redis cannot answer (the caller falls back). */
export class RedisBudgets {
  constructor(
    private readonly scripts: SharedScripts,
    /** The Redis key of a viewer's budget (CacheKeys.rateBudget). */
    private readonly keyOf: (viewer: string) => string,
  ) {}

  get available(): boolean {
    return this.scripts.available();
  }

  /** As gcra.ts's take, `refund` included. */
  async take(viewer: string, nowMs: number, policy: RatePolicy, want: number, min: number, refund: number): Promise<Grant> {
    const reply = await this.scripts.evalOnKey(TAKE, this.keyOf(viewer), [nowMs, emissionMs(policy), policy.burstCost, want, min, EPSILON, refund]);
    if (!Array.isArray(reply) || reply.length !== 4) throw new Error(`rate budget script: unexpected reply ${JSON.stringify(reply)}`);
    const [granted, remaining, retryAfterMs, fullInMs] = reply.map(Number) as [number, number, number, number];
    return { granted, remaining, retryAfterMs, fullInMs };
  }
}
