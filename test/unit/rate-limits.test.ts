import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

import { QueryCosts } from '../../src/graphql/query-costs';
import { ClientAddresses, network64 } from '../../src/http/client-address';
import { RateLimitGate } from '../../src/http/rate-limit-gate';
import { type RatePolicy, take } from '../../src/rate-limit/gcra';
import { LocalBudgets } from '../../src/rate-limit/local-budgets';
import { RateLimiter } from '../../src/rate-limit/rate-limiter';
import type { RedisBudgets } from '../../src/rate-limit/redis-budgets';
import { createLogger } from '../../src/logger';
import { loadConfig } from '../../src/config';

/** 600 a minute: one unit every 100 ms; a burst of 10. */
const POLICY: RatePolicy = { name: 'user', costPerMinute: 600, burstCost: 10 };

describe('GCRA arithmetic', () => {
  it('grants a full burst at once, then refuses, saying when the cost fits', () => {
    const first = take(undefined, 0, POLICY, 10, 10);
    expect(first.grant).toEqual({ granted: 10, remaining: 0, retryAfterMs: 0, fullInMs: 1000 });
    const refused = take(first.tatMs, 0, POLICY, 3, 3);
    expect(refused.grant).toEqual({ granted: 0, remaining: 0, retryAfterMs: 300, fullInMs: 1000 });
    expect(refused.tatMs).toBe(first.tatMs);
  });

  it('refills one unit per emission interval, and never beyond the burst', () => {
    const spent = take(undefined, 0, POLICY, 10, 10).tatMs;
    expect(take(spent, 250, POLICY, 10, 1).grant.granted).toBe(2);
    expect(take(spent, 60_000, POLICY, 50, 1).grant.granted).toBe(10);
  });

  it('grants between min and want: what is left, when that is at least min', () => {
    const tat = take(undefined, 0, POLICY, 7, 7).tatMs;
    expect(take(tat, 0, POLICY, 6, 2).grant).toMatchObject({ granted: 3, remaining: 0 });
    expect(take(tat, 0, POLICY, 6, 4).grant).toMatchObject({ granted: 0, remaining: 3, retryAfterMs: 100 });
  });

  it('gives back units taken and not spent before taking, never beyond a full budget', () => {
    const spent = take(undefined, 0, POLICY, 10, 10).tatMs;
    expect(take(spent, 0, POLICY, 10, 1, 4).grant).toMatchObject({ granted: 4, remaining: 0 });
    expect(take(spent, 0, POLICY, 10, 1, 50).grant).toMatchObject({ granted: 10, remaining: 0 });
    const refusedButRefunded = take(spent, 0, POLICY, 5, 5, 3);
    expect(refusedButRefunded.grant.granted).toBe(0);
    expect(refusedButRefunded.tatMs).toBe(spent - 300);
  });

  it('counts exactly at rates whose interval is not a whole number of milliseconds', () => {
    const policy: RatePolicy = { name: 'user', costPerMinute: 7, burstCost: 7 };
    let tat: number | undefined;
    let granted = 0;
    for (let i = 0; i < 20; i += 1) {
      const result = take(tat, 0, policy, 1, 1);
      tat = result.tatMs;
      granted += result.grant.granted;
    }
    expect(granted).toBe(7);
    expect(take(tat, 60_000, policy, 7, 7).grant.granted).toBe(7);
  });
});

describe('RateLimiter leases', () => {
  const quiet = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));
  const unavailable = { available: false } as unknown as RedisBudgets;

  it('spends a burst exactly, whatever the lease sizes, and refills with the clock', async () => {
    let nowMs = 0;
    const limiter = new RateLimiter(unavailable, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => nowMs }, quiet);
    const policy: RatePolicy = { name: 'user', costPerMinute: 600, burstCost: 100 };
    let allowed = 0;
    for (let i = 0; i < 40; i += 1) if ((await limiter.charge('user:1', policy, 3)).allowed) allowed += 1;
    expect(allowed).toBe(33);
    nowMs += 300;
    expect((await limiter.charge('user:1', policy, 3)).allowed).toBe(true);
    expect((await limiter.charge('user:1', policy, 3)).allowed).toBe(false);
    expect(limiter.metrics().refused.user).toBeGreaterThan(0);
  });

  it('gives what a lapsed lease left back to the budget with the next lease, so a returning viewer loses nothing', async () => {
    let nowMs = 0;
    const limiter = new RateLimiter(unavailable, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => nowMs }, quiet);
    const policy: RatePolicy = { name: 'user', costPerMinute: 600, burstCost: 100 };
    // 40 spent, from leases that grew to 1 + 2 + 4 + 8 + 10 + 10 + 10 (a tenth of the burst at most): 5 leased and not spent.
    for (let i = 0; i < 40; i += 1) expect((await limiter.charge('user:4', policy, 1)).allowed).toBe(true);
    nowMs += 1_001;
    let allowed = 0;
    while ((await limiter.charge('user:4', policy, 1)).allowed) allowed += 1;
    // 100 - 40 left, plus 10 refilled in 1.001 s: none of the lapsed 5 lost.
    expect(allowed).toBe(70);
  });

  it('counts a lapsed lease as the budget it goes back to: a cost that fits with it is not refused in process', async () => {
    let nowMs = 0;
    const shared = new LocalBudgets();
    const redis = { available: true, take: (...args: Parameters<LocalBudgets['take']>) => Promise.resolve(shared.take(...args)) } as unknown as RedisBudgets;
    const limiter = new RateLimiter(redis, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => nowMs }, quiet);
    const policy: RatePolicy = { name: 'user', costPerMinute: 600, burstCost: 100 };
    for (let i = 0; i < 80; i += 1) expect((await limiter.charge('user:9', policy, 1)).allowed).toBe(true);
    // Quiet for a second: the lease lapses with units leased and not spent. The budget holds 100 - 80 + 10.
    nowMs += 1_000;
    expect(await limiter.charge('user:9', policy, 28)).toEqual({ allowed: true });
    expect(await limiter.charge('user:9', policy, 3)).toMatchObject({ allowed: false, remaining: 2 });
  });

  it('decides locally from the budget Redis last reported: a viewer that spent its burst gets no fresh one when Redis goes away', async () => {
    let nowMs = 0;
    const shared = new LocalBudgets();
    const redis = { available: true, take: (...args: Parameters<LocalBudgets['take']>) => Promise.resolve(shared.take(...args)) };
    const limiter = new RateLimiter(redis as unknown as RedisBudgets, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => nowMs }, quiet);
    const policy: RatePolicy = { name: 'user', costPerMinute: 600, burstCost: 100 };
    while ((await limiter.charge('user:5', policy, 5)).allowed);
    redis.available = false;
    nowMs += 1_000;
    // Only the second's refill (10), and a lapsed Redis lease's units are not handed out again.
    let allowed = 0;
    while ((await limiter.charge('user:5', policy, 5)).allowed) allowed += 1;
    expect(allowed).toBe(2);
    expect(limiter.metrics().leases.local).toBeGreaterThan(0);
    // Another viewer, never seen by Redis, still has its whole budget here.
    expect((await limiter.charge('user:6', policy, 100)).allowed).toBe(true);
  });

  it('answers synchronously while a lease covers the cost', async () => {
    const limiter = new RateLimiter(unavailable, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => 0 }, quiet);
    const policy: RatePolicy = { name: 'anonymous', costPerMinute: 600, burstCost: 1000 };
    await limiter.charge('ip:192.0.2.1', policy, 1);
    await limiter.charge('ip:192.0.2.1', policy, 1);
    expect(limiter.charge('ip:192.0.2.1', policy, 1)).toEqual({ allowed: true });
  });

  it('refuses a client that keeps asking without asking Redis again, until its cost can fit', async () => {
    let nowMs = 0;
    const shared = new LocalBudgets();
    let calls = 0;
    const redis = { available: true, take: (...args: Parameters<LocalBudgets['take']>) => ((calls += 1), Promise.resolve(shared.take(...args))) } as unknown as RedisBudgets;
    const limiter = new RateLimiter(redis, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => nowMs }, quiet);
    while ((await limiter.charge('user:3', POLICY, 2)).allowed);
    const asked = calls;
    for (let i = 0; i < 100; i += 1) expect(limiter.charge('user:3', POLICY, 2)).toMatchObject({ allowed: false, retryAfterMs: 200, remaining: 0 });
    expect(calls).toBe(asked);
    nowMs += 200;
    expect((await limiter.charge('user:3', POLICY, 2)).allowed).toBe(true);
    expect(calls).toBe(asked + 1);
    expect(limiter.metrics().refused.user).toBe(101);
  });

  it('charges a cost above the burst as the whole burst: it passes on a full budget only', async () => {
    const limiter = new RateLimiter(unavailable, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => 0 }, quiet);
    expect((await limiter.charge('user:2', POLICY, 500)).allowed).toBe(true);
    expect((await limiter.charge('user:2', POLICY, 1)).allowed).toBe(false);
  });
});

describe('RateLimitGate, charging in two steps (a hit first, the rest without a near copy)', () => {
  const quiet = createLogger(loadConfig({ LOG_LEVEL: 'silent' }));
  const unavailable = { available: false } as unknown as RedisBudgets;
  const policy: RatePolicy = { name: 'user', costPerMinute: 600, burstCost: 100 };
  const client = { socket: { remoteAddress: '192.0.2.9' }, headers: {} } as unknown as IncomingMessage;

  it('gives the hit back when the rest is refused, and says when the whole fits: a client that waits its Retry-After is served', async () => {
    let nowMs = 0;
    const limiter = new RateLimiter(unavailable, new LocalBudgets(), { leaseMaxCost: 100, redisTimeoutMs: 100, now: () => nowMs }, quiet);
    const gate = new RateLimitGate(limiter, { user: policy, anonymous: policy, admin: undefined }, new ClientAddresses([]), new QueryCosts({ maxDepth: 8, maxAliases: 15, maxCost: 5000 }, 1000), 10);
    /** A query of cost 100 without a near copy: 10 for a hit, then 90. */
    const request = async () => {
      const hit = await gate.charge(client, 'user:7', 10);
      return hit.allowed ? gate.charge(client, 'user:7', 90, 10) : hit;
    };
    expect((await request()).allowed).toBe(true);
    nowMs += 1_500;
    // 15 refilled: the hit (10) fits, the rest (90) does not; the refusal is for the whole 100.
    const refused = await request();
    expect(refused).toMatchObject({ allowed: false, cost: 100, remaining: 15, retryAfterMs: 8_500 });
    nowMs += 8_500;
    expect((await request()).allowed).toBe(true);
  });
});

describe('ClientAddresses', () => {
  const request = (remoteAddress: string, forwardedFor?: string): IncomingMessage => {
    const socket = new Socket();
    Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress });
    const message = new IncomingMessage(socket);
    if (forwardedFor !== undefined) message.headers['x-forwarded-for'] = forwardedFor;
    return message;
  };

  it('ignores X-Forwarded-For without trusted proxies', () => {
    expect(new ClientAddresses([]).of(request('198.51.100.7', '203.0.113.1'))).toBe('198.51.100.7');
  });

  it("believes a trusted proxy's X-Forwarded-For, read from the right, up to the first untrusted hop", () => {
    const addresses = new ClientAddresses(['10.0.0.0/8', '127.0.0.1']);
    expect(addresses.of(request('127.0.0.1', '203.0.113.1'))).toBe('203.0.113.1');
    expect(addresses.of(request('::ffff:10.1.2.3', 'forged, 203.0.113.1, 10.9.9.9'))).toBe('203.0.113.1');
    expect(addresses.of(request('10.1.2.3', '10.9.9.9, 10.8.8.8'))).toBe('10.9.9.9');
    expect(addresses.of(request('10.1.2.3', 'unknown'))).toBe('10.1.2.3');
    expect(addresses.of(request('198.51.100.7', '203.0.113.1'))).toBe('198.51.100.7');
  });

  it('tells IPv6 clients apart by their /64', () => {
    expect(network64('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(network64('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(network64('::ffff:192.0.2.1')).toBe('0:0:0:0::/64');
    expect(new ClientAddresses([]).of(request('2001:db8:0:1:aaaa::1'))).toBe(new ClientAddresses([]).of(request('2001:db8:0:1:bbbb::2')));
  });
});

describe('RATE_LIMIT_* and TRUSTED_PROXIES', () => {
  it('are off by default, with the admin exempt', () => {
    const config = loadConfig({});
    expect(config.rateLimit).toMatchObject({ enabled: false, admin: undefined, user: { costPerMinute: 30_000, burstCost: 10_000 }, hitCostPercent: 10 });
    expect(config.http.trustedProxies).toEqual([]);
  });

  it('refuse a trusted proxy that is not an address or range, naming the variable', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'proxy.local' })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, ::1, fd00::/8' }).http.trustedProxies).toEqual(['10.0.0.0/8', '::1', 'fd00::/8']);
  });

  it('put the admin on a budget of its own when RATE_LIMIT_ADMIN_COST_PER_MINUTE is set', () => {
    expect(loadConfig({ RATE_LIMIT_ADMIN_COST_PER_MINUTE: '100' }).rateLimit.admin).toEqual({ costPerMinute: 100, burstCost: 10_000 });
  });
});

describe('query costs', () => {
  const costs = new QueryCosts({ maxDepth: 8, maxAliases: 15, maxCost: 5000 }, 1000);
  const query = 'query Board($limit: Int, $symbols: [String!]) { signals(limit: $limit) { id user { id } } prices(symbols: $symbols) { bid } }';

  it('count sizes given in variables as sent, and the operation’s defaults where none was sent', () => {
    expect(costs.of(query, 'Board', { limit: 200, symbols: ['EUR_USD', 'GBP_USD'] })).toBe(1 + 200 * 3 + 1 + 2);
    expect(costs.of(query, 'Board', { limit: 2, symbols: ['EUR_USD'] })).toBe(1 + 2 * 3 + 1 + 1);
    expect(costs.of('query($n: Int = 120) { signals(limit: $n) { id } }', undefined)).toBe(1 + 120);
    // Left to the field's own default: as many as the cost rule assumes.
    expect(costs.of(query, 'Board', {})).toBe(1 + 50 * 3 + 1 + 50);
  });

  it('keep a text without variables at its cost, whatever is sent beside it', () => {
    expect(costs.of('{ signals(limit: 100) { id } }', undefined, { limit: 1 })).toBe(1 + 100);
  });

  it('cannot be lowered for a named operation by a text that holds its name (remembered as a refused one, cost 1)', () => {
    const heavy = 'query Cheap { signals(symbol: "GBP_USD", limit: 30) { id symbol direction } }';
    const poisoned = new QueryCosts({ maxDepth: 8, maxAliases: 15, maxCost: 5000 }, 1000);
    for (const forged of [`Cheap\0${heavy}`, `Cheap\n${heavy}`, `5:Cheap${heavy}`]) expect(poisoned.of(forged, undefined)).toBe(1);
    expect(poisoned.of(heavy.slice(1), 'Cheap'.concat(heavy[0]!))).toBe(1);
    expect(poisoned.of(heavy, 'Cheap')).toBe(1 + 30 * 3);
  });
});
