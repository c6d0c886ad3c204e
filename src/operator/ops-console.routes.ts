import type { FastifyInstance } from 'fastify';

import { ErrorCode, PublicError } from '../errors';
import type { Authenticator } from '../sessions/authenticator';
import { requireAdmin } from './cache-admin.service';
import { OPS_CONSOLE_CSS, OPS_CONSOLE_HTML_HEADERS, opsConsoleHtml, opsConsoleScript } from './ops-console.page';
import { opsStats, type OpsStatsSources } from './ops-stats';

/** Where the console lives: the page at the path itself, its assets and data below it. */
export const OPS_CONSOLE_PATH = '/ops';

/** A session token is looked up in the database, which may be down: 503, not a refusal. */
const STATUS_OF_CODE: Partial<Record<string, number>> = { [ErrorCode.Unauthenticated]: 401, [ErrorCode.Forbidden]: 403, [ErrorCode.DatabaseUnavailable]: 503 };

/**
 * `GET /ops` (the page), `/ops/console.js`, `/ops/console.css` and `GET /ops/stats` (its data,
 * admin only). Registered only when OPS_CONSOLE_ENABLED, so that a disabled console is a 404 like
 * any unknown path. The page and its assets are open: they carry no data, and an operator who
 * opens the URL expects a sign-in form rather than a bare 401.
 */
export function registerOpsConsole(http: FastifyInstance, deps: { readonly authenticator: Authenticator; readonly stats: OpsStatsSources }): void {
  const html = opsConsoleHtml(OPS_CONSOLE_PATH);
  const script = opsConsoleScript(OPS_CONSOLE_PATH);
  const assetHeaders = { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };

  http.get(OPS_CONSOLE_PATH, (_request, reply) => reply.headers(OPS_CONSOLE_HTML_HEADERS).send(html));
  http.get(`${OPS_CONSOLE_PATH}/console.js`, (_request, reply) => reply.headers(assetHeaders).type('text/javascript; charset=utf-8').send(script));
  http.get(`${OPS_CONSOLE_PATH}/console.css`, (_request, reply) => reply.headers(assetHeaders).type('text/css; charset=utf-8').send(OPS_CONSOLE_CSS));

  http.get(`${OPS_CONSOLE_PATH}/stats`, async (request, reply) => {
    try {
      requireAdmin(await deps.authenticator.authenticate(request.headers.authorization));
    } catch (error) {
      if (!(error instanceof PublicError)) throw error;
      return reply.code(STATUS_OF_CODE[error.code] ?? 500).send({ error: { code: error.code, message: error.message } });
    }
    return reply.header('cache-control', 'no-store').send(await opsStats(deps.stats));
  });
}
