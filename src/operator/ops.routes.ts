import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';

import type { CacheService } from '../cache/cache.service';
import type { CdnPurgerReport } from '../cdn/cdn-purger';
import type { Database } from '../db/database';
import type { MarketDataReport } from '../market/market.service';
import { ErrorCode, PublicError } from '../errors';
import type { Authenticator } from '../sessions/authenticator';
import { WARMING_STRATEGIES } from '../warming/warming.service';
import { type CacheAdminService, INVALIDATION_SCOPES, requireAdmin } from './cache-admin.service';

/** A readiness probe that takes longer than this counts as a failed database. */
const READINESS_TIMEOUT_MS = 1_000;

const invalidateBody = z.strictObject({
  scope: z.enum(INVALIDATION_SCOPES),
  id: z.number().int().positive().max(2_147_483_647).optional(),
  symbol: z.string().optional(),
  pattern: z.string().optional(),
});
const warmingBody = z.strictObject({ strategies: z.array(z.enum(WARMING_STRATEGIES)).max(WARMING_STRATEGIES.length).optional() });

const STATUS_OF: Partial<Record<string, number>> = {
  [ErrorCode.BadUserInput]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.DatabaseUnavailable]: 503,
};

export interface OpsRouteDeps {
  readonly admin: CacheAdminService;
  readonly authenticator: Authenticator;
  readonly cache: CacheService;
  readonly db: Database;
  readonly metrics: Registry;
  readonly market: { report(): MarketDataReport };
  /** Absent when no CDN purges are configured (CDN_PURGE_URL unset): the readiness report then has no line for it. */
  readonly cdnPurger?: { report(): CdnPurgerReport } | undefined;
}

/** The seed's operations endpoints, in its JSON shapes (snake_case), plus readiness and Prometheus. */
export function registerOpsRoutes(http: FastifyInstance, deps: OpsRouteDeps): void {
  const { admin, authenticator } = deps;

  http.get('/cache/health', () => admin.health());
  http.get('/cache/metrics', () => ({ ...admin.metrics(), market_data: deps.market.report() }));
  http.get('/cache/warming/metrics', () => admin.warmingMetrics());

  http.post('/cache/invalidate', (request, reply) =>
    answer(reply, async () => {
      // The token before the body: a caller without it learns nothing about what the body should be.
      const viewer = await authenticator.authenticate(request.headers.authorization);
      requireAdmin(viewer);
      return admin.invalidate(viewer, parse(invalidateBody, request.body));
    }),
  );

  http.post('/cache/warming/trigger', (request, reply) =>
    answer(reply, async () => {
      const viewer = await authenticator.authenticate(request.headers.authorization);
      requireAdmin(viewer);
      // An absent body means every strategy; a `null` body is a malformed one, refused like any other.
      return admin.triggerWarming(viewer, parse(warmingBody, request.body === undefined ? {} : request.body).strategies);
    }),
  );

  // Readiness, unlike liveness, checks dependencies: without the database nothing uncached can be
  // answered (503); without Redis everything still is, from the memory tier (200, degraded). The
  // CDN purger's line informs only: an unreachable CDN may serve stale answers, but taking this
  // instance out of rotation would not help it.
  http.get('/health/ready', async (_request: FastifyRequest, reply: FastifyReply) => {
    const databaseUp = await Promise.race([deps.db.ping(), new Promise<false>((resolve) => setTimeout(() => resolve(false), READINESS_TIMEOUT_MS).unref())]);
    const cache = deps.cache.healthReport();
    const status = !databaseUp ? 'unhealthy' : cache.connection_healthy ? 'healthy' : 'degraded';
    return reply.code(databaseUp ? 200 : 503).send({
      status,
      database: databaseUp ? 'up' : 'down',
      cache: { status: cache.status, connection_healthy: cache.connection_healthy, fallback_enabled: cache.fallback_enabled },
      ...(deps.cdnPurger === undefined ? {} : { cdn_purger: deps.cdnPurger.report() }),
    });
  });

  http.get('/metrics', async (_request, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
  throw new PublicError(ErrorCode.BadUserInput, `Invalid request body: ${problems.join('; ')}`);
}

/** Errors meant for the client keep their code and get the matching status; nothing else leaks. */
async function answer(reply: FastifyReply, work: () => Promise<unknown>): Promise<FastifyReply> {
  try {
    return await reply.send(await work());
  } catch (error) {
    if (!(error instanceof PublicError)) throw error;
    return reply.code(STATUS_OF[error.code] ?? 500).send({ error: { code: error.code, message: error.message } });
  }
}
