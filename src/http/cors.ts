import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * CORS for the listed browser origins only (CORS_ORIGINS); any other origin gets no CORS headers,
 * so the browser keeps its answers from the page. Preflights are answered here.
 *
 * Every answer then varies by Origin (whichever origin asked, or none): a shared cache must not
 * hand one origin's answer, with or without its CORS headers, to another. The Vary is added as the
 * answer goes out, so a route that sets its own Vary cannot drop it.
 */
export function registerCors(http: FastifyInstance, allowedOrigins: readonly string[]): void {
  if (allowedOrigins.length === 0) return;
  const allowed = new Set(allowedOrigins);
  http.addHook('onSend', (_request, reply, payload, done) => {
    appendVary(reply, 'origin');
    done(null, payload);
  });
  http.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) {
      done();
      return;
    }
    reply.header('access-control-allow-origin', origin);
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
