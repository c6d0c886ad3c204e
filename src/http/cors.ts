import type { FastifyInstance } from 'fastify';

/**
 * CORS for the listed browser origins only (CORS_ORIGINS); any other origin gets no CORS headers,
 * so the browser keeps its answers from the page. Preflights are answered here.
 */
export function registerCors(http: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allowed = new Set(allowedOrigins);
  http.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) {
      done();
      return;
    }
    reply.header('access-control-allow-origin', origin).header('vary', 'origin');
    if (request.method === 'OPTIONS') {
      void reply
        .code(204)
        .headers({
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, if-none-match',
          'access-control-max-age': '600',
        })
        .send();
      return;
    }
    done();
  });
}
