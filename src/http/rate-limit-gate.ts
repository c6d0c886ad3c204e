import type { IncomingMessage } from 'node:http';

import type { FastifyReply } from 'fastify';
import type { GraphQLFormattedError } from 'graphql';

import { ErrorCode } from '../errors';
import type { QueryCosts } from '../graphql/query-costs';
import type { RatePolicy } from '../rate-limit/gcra';
import { ALLOWED, type RateLimiter, type Refusal, type Verdict } from '../rate-limit/rate-limiter';
import type { ClientAddresses } from './client-address';
import { APPLICATION_JSON } from './response-media-type';

export interface RatePolicies {
  readonly user: RatePolicy;
  readonly anonymous: RatePolicy;
  /** `undefined`: the admin is exempt. */
  readonly admin: RatePolicy | undefined;
}

/** A refusal as HTTP: the same from the hit front and the GraphQL route. */
export interface RateLimitedAnswer {
  readonly status: 429;
  /** Names and values, flat, as node's writeHead takes them. */
  readonly head: readonly string[];
  readonly body: string;
}

/**
 * Who pays for a request, and how much, for both HTTP layers (hit front and GraphQL route):
 * a user from their own budget, the admin from its own or not at all, anonymous callers from their
 * address's (ClientAddresses). An answer from the response cache costs `hitCostPercent` of its
 * query's cost, at least 1: cheap, never free, so a flood of hits is still a flood.
 */
export class RateLimitGate {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly policies: RatePolicies,
    private readonly addresses: ClientAddresses,
    private readonly costs: QueryCosts,
    private readonly hitCostPercent: number,
  ) {}

  /** What executing an operation costs: its cost as the query limits count it (parsed once per text). */
  costOf(operation: { readonly query: string; readonly operationName: string | undefined; readonly variables?: Readonly<Record<string, unknown>> | undefined }): number {
    return this.costs.of(operation.query, operation.operationName, operation.variables);
  }

  /** What a cached answer costs, of a query that costs `cost`. */
  hitCost(cost: number): number {
    return Math.max(1, Math.ceil((cost * this.hitCostPercent) / 100));
  }

  /**
   * Spends `cost` from the budget of whoever sends `request`; synchronous while a lease covers it
   * (see RateLimiter). `charged`: what the same request spent already (its hit cost, when no near
   * copy answered), so that a request costlier than the burst spends the burst in all, not more.
   * A refusal then gives that back and speaks of the whole charge: a refused request spends
   * nothing, and a client that waits its Retry-After finds room for both steps of its retry.
   */
  charge(request: Pick<IncomingMessage, 'socket' | 'headers'>, identity: string, cost: number, charged = 0): Verdict | Promise<Verdict> {
    const policy = this.policyOf(identity);
    if (policy === undefined) return ALLOWED;
    const viewer = this.viewerOf(request, identity);
    const verdict = this.limiter.charge(viewer, policy, Math.min(cost + charged, policy.burstCost) - charged);
    if (charged === 0) return verdict;
    return verdict instanceof Promise ? verdict.then((settled) => this.wholeRequest(viewer, settled, charged)) : this.wholeRequest(viewer, verdict, charged);
  }

  /**
   * A refused rest, as a refusal of the whole request: what it spent before comes back to the
   * viewer's lease, so the wait for the rest is also the wait for the whole.
   */
  private wholeRequest(viewer: string, verdict: Verdict, charged: number): Verdict {
    if (verdict.allowed) return verdict;
    this.limiter.refund(viewer, charged);
    return { ...verdict, cost: verdict.cost + charged, remaining: verdict.remaining + charged };
  }

  /**
   * A subscription's start: its query's cost, spent once from the budget of the viewer, or of the
   * client's address for an anonymous one (its events are the server's doing, and cost nothing).
   * `undefined` when allowed, else the refusal.
   */
  async chargeSubscription(identity: string, clientAddress: string, operation: { readonly query: string; readonly operationName: string | undefined; readonly variables: Readonly<Record<string, unknown>> }): Promise<Refusal | undefined> {
    const policy = this.policyOf(identity);
    if (policy === undefined) return undefined;
    const verdict = await this.limiter.charge(identity === 'anonymous' ? addressBudget(clientAddress) : identity, policy, this.costOf(operation));
    return verdict.allowed ? undefined : verdict;
  }

  /**
   * A credential a live transport refused: 1 from its sender's address, as a refused token costs
   * over HTTP, so that guessing tokens on a socket is not free. `undefined` when allowed.
   */
  async chargeRefusedCredential(clientAddress: string): Promise<Refusal | undefined> {
    const verdict = await this.limiter.charge(addressBudget(clientAddress), this.policies.anonymous, 1);
    return verdict.allowed ? undefined : verdict;
  }

  /** Gives back what `charge` took with the same arguments (a shared-tier hit charged as an execution). */
  refund(request: Pick<IncomingMessage, 'socket' | 'headers'>, identity: string, cost: number, charged = 0): void {
    const policy = this.policyOf(identity);
    if (policy !== undefined) this.limiter.refund(this.viewerOf(request, identity), Math.min(cost + charged, policy.burstCost) - charged);
  }

  /**
   * 429 with Retry-After (seconds until the request's cost fits) and the RateLimit-Policy and
   * RateLimit fields of draft-ietf-httpapi-ratelimit-headers-10 (structured fields). The policy
   * advertises the burst as its quota (`q`) and the time to refill it as its window (`w`); `r` is
   * what is left, `t` the seconds until the budget is full again. The unit is query cost, for
   * which the draft's registry of quota units has no name, so `qu` is left out.
   */
  refusal(refusal: Refusal): RateLimitedAnswer {
    const { policy } = refusal;
    const retryAfterSeconds = retryAfterSecondsOf(refusal);
    const windowSeconds = Math.max(1, Math.ceil((policy.burstCost * 60) / policy.costPerMinute));
    const body = JSON.stringify({ errors: this.refusalErrors(refusal) });
    return {
      status: 429,
      head: [
        'content-type', APPLICATION_JSON,
        'content-length', String(Buffer.byteLength(body)),
        // A refusal is about this client, now: no cache, shared or private, may keep it.
        'cache-control', 'private, no-store',
        'retry-after', String(retryAfterSeconds),
        'ratelimit-policy', `"${policy.name}";q=${policy.burstCost};w=${windowSeconds}`,
        'ratelimit', `"${policy.name}";r=${Math.max(0, Math.floor(refusal.remaining))};t=${Math.max(0, Math.ceil(refusal.fullInMs / 1000))}`,
      ],
      body,
    };
  }

  /** A refusal as GraphQL errors (code RATE_LIMITED): the body of a 429, or a refused subscription's `error`. */
  refusalErrors(refusal: Refusal): [GraphQLFormattedError] {
    const { policy } = refusal;
    const retryAfterSeconds = retryAfterSecondsOf(refusal);
    return [
      {
        message: `Rate limit exceeded: this request costs ${refusal.cost} of the ${policy.name} budget (${policy.burstCost} at most, refilled at ${policy.costPerMinute} a minute); retry in ${retryAfterSeconds} s`,
        extensions: { code: ErrorCode.RateLimited, policy: policy.name, cost: refusal.cost, retryAfterSeconds },
      },
    ];
  }

  private policyOf(identity: string): RatePolicy | undefined {
    if (identity === 'anonymous') return this.policies.anonymous;
    if (identity === 'admin') return this.policies.admin;
    return this.policies.user;
  }

  /** The budget's name: the identity, or for anonymous callers their address. */
  private viewerOf(request: Pick<IncomingMessage, 'socket' | 'headers'>, identity: string): string {
    return identity === 'anonymous' ? addressBudget(this.addresses.of(request)) : identity;
  }
}

/** A refusal on a Fastify reply (the GraphQL route's, the SSE route's); the hit front writes `head` to node's response as it is. */
export function sendRateLimited(reply: FastifyReply, answer: RateLimitedAnswer): FastifyReply {
  reply.code(answer.status);
  for (let i = 0; i < answer.head.length; i += 2) reply.header(answer.head[i]!, answer.head[i + 1]!);
  return reply.send(answer.body);
}

function addressBudget(address: string): string {
  return `ip:${address}`;
}

function retryAfterSecondsOf(refusal: Refusal): number {
  return Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
}
