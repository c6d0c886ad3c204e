import type { FastifyInstance } from 'fastify';

/** Liveness: answers while the process can serve HTTP at all; it checks no dependency on purpose. */
export function registerHealthRoutes(http: FastifyInstance, startedAtMs: number): void {
  http.get('/health', () => ({
    status: 'healthy',
    uptime_seconds: Math.round((Date.now() - startedAtMs) / 1000),
  }));
}
