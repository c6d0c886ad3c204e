import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * CORS for the listed browser origins only (CORS_ORIGINS); any other origin gets no CORS headers,
 * so the browser keeps its answers from the page. One policy for Fastify's hooks and for the hit
 * front, which answers before Fastify (see hit-front.ts).
 *
 * Every answer then varies by Origin (whichever origin asked, or none): a shared cache must not
 * hand one origin's answer, with or without its CORS headers, to another.
 */
export class CorsPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.allowed = new Set(allowedOrigins);
  }

  /** Whether answers vary by Origin: some origin is allowed. */
  get enabled(): boolean {
    return this.allowed.size > 0;
  }

  /** The Access-Control-Allow-Origin of an answer to `origin`, if it gets one. */
  allowOriginFor(origin: string | undefined): string | undefined {
    return origin !== undefined && this.allowed.has(origin) ? origin : undefined;
  }
}

/**
 * Response headers a page of an allowed origin may read, beyond the CORS-safelisted ones
 * (Cache-Control, Content-Type, Content-Length…): the cache's validators and verdict (ETag, Age,
 * x-cache), the request id a bug report quotes, and a rate limit's Retry-After and RateLimit
 * fields, without which a browser app cannot back off as told.
 */
export const EXPOSED_HEADERS = 'etag, age, x-cache, x-request-id, retry-after, ratelimit, ratelimit-policy';

/** Preflights are answered here; the Vary is added as the answer goes out, so a route that sets its own Vary cannot drop it. */
export function registerCors(http: FastifyInstance, policy: CorsPolicy): void {
  if (!policy.enabled) return;
  http.addHook('onSend', (_request, reply, payload, done) => {
    appendVary(reply, 'origin');
    done(null, payload);
  });
  http.addHook('onRequest', (request, reply, done) => {
    const origin = policy.allowOriginFor(request.headers.origin);
    if (origin === undefined) {
      done();
      return;
    }
    reply.header('access-control-allow-origin', origin).header('access-control-expose-headers', EXPOSED_HEADERS);
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

/** Adds `fields` to the reply's Vary, keeping what is there (names compare case-insensitively; `*` stays `*`). */
export function appendVary(reply: FastifyReply, ...fields: string[]): void {
  const current = reply.getHeader('vary');
  const text = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current);
  if (text.trim() === '*') return;
  const names = text === '' ? [] : text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const present = new Set(names.map((name) => name.toLowerCase()));
  for (const field of fields) {
    if (field === '*') {
      reply.header('vary', '*');
      return;
    }
    if (!present.has(field.toLowerCase())) {
      names.push(field);
      present.add(field.toLowerCase());
    }
  }
  if (names.length > 0) reply.header('vary', names.join(', '));
}
