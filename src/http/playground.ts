import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * GraphiQL served by the gateway itself: the page and every script, style sheet and font come from
 * this process (fonts are inlined in GraphiQL's CSS), so the playground works with no internet
 * access. The page is answered on the GraphQL route for browsers (see `wantsPlayground`); the
 * assets are the routes `registerPlayground` adds.
 */

/** URL prefix of the playground's assets, the default of `registerPlayground` and `playgroundHtml`. */
export const PLAYGROUND_ASSET_PATH = '/playground';
/** Set on the playground's own requests, so that in development they keep free text when persisted documents are required. */
export const PLAYGROUND_REQUEST_HEADER = 'x-graphql-playground';

/**
 * Headers of the playground page. The Content-Security-Policy lets the page load and call nothing
 * but this origin, so that a missing local asset fails loudly instead of falling back to a CDN.
 * GraphiQL sets inline styles and inlines its fonts and icons as data: URLs.
 */
export const PLAYGROUND_HTML_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-cache',
  // The same URL answers JSON to API clients: caches must key on Accept.
  vary: 'Accept',
  'x-content-type-options': 'nosniff',
};

interface AssetSource {
  /** npm package the file ships in. */
  readonly pkg: string;
  /** Path inside the package. */
  readonly file: string;
  readonly contentType: string;
}

const JS = 'text/javascript; charset=utf-8';

/**
 * The only files served, by their public name. GraphiQL 4's UMD build expects React 18's UMD
 * globals (`React`, `ReactDOM`); React 19 ships no UMD build, hence React 18.
 */
const ASSET_SOURCES: Readonly<Record<string, AssetSource>> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', contentType: JS },
  'react-dom.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: JS },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', contentType: JS },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
};

/** The query a first visit opens with (GraphiQL keeps the user's own after that, in this browser). */
const DEFAULT_QUERY = `# Trading gateway playground.
# Ctrl-Enter runs the query; the book icon (top left) opens the schema.
# Admin operations (invalidateCache, triggerCacheWarming) need the
# admin token: open Headers below and enter
# {"Authorization": "Bearer <ADMIN_API_TOKEN>"}

{
  latestSignals(symbols: ["EUR_USD"], perSymbol: 3) {
    id
    direction
    confidence
    user {
      username
    }
    currentPrice {
      bid
      ask
    }
  }
}
`;

/**
 * Starts GraphiQL on the page it is served from: queries go to that same URL (the GraphQL
 * route), so the page needs to know neither host nor path. `?query=` and `?variables=` prefill
 * the editors, to share a link to an operation. An external file rather than an inline script so
 * that the page's policy can forbid inline scripts.
 */
const BOOT_SCRIPT = `(function () {
  'use strict';
  var params = new URLSearchParams(window.location.search);
  var endpoint = window.location.origin + window.location.pathname;
  var props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint, headers: { ${JSON.stringify(PLAYGROUND_REQUEST_HEADER)}: '1' } }),
    defaultEditorToolsVisibility: true,
    // Headers such as an admin token stay in this tab only.
    shouldPersistHeaders: false,
  };
  props.defaultQuery = ${JSON.stringify(DEFAULT_QUERY)};
  // A link's operation replaces what the browser kept from an earlier visit.
  if (params.get('query')) props.query = params.get('query');
  if (params.get('variables')) props.variables = params.get('variables');
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
})();
`;

interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

/** Reads every asset once, at registration: a missing package fails start-up, not a browser later. */
function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (name: string, body: Buffer, contentType: string) =>
    assets.set(name, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
  for (const [name, source] of Object.entries(ASSET_SOURCES)) {
    const packageDir = dirname(require.resolve(`${source.pkg}/package.json`));
    add(name, readFileSync(join(packageDir, source.file)), source.contentType);
  }
  add('boot.js', Buffer.from(BOOT_SCRIPT, 'utf8'), JS);
  return assets;
}

/**
 * Registers `GET {path}/:file` for the playground's assets (default path `/playground`), and
 * nothing else: the page itself is served by the GraphQL route (`playgroundHtml`). Assets are
 * revalidated by ETag, so an upgrade of GraphiQL is picked up at once.
 */
export function registerPlayground(http: FastifyInstance, options: { path: string } = { path: PLAYGROUND_ASSET_PATH }): void {
  const assets = loadAssets();
  http.get(`${options.path}/:file`, (request: FastifyRequest<{ Params: { file: string } }>, reply: FastifyReply) => {
    const asset = assets.get(request.params.file);
    if (asset === undefined) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'No such playground asset' } });
    reply.header('etag', asset.etag).header('cache-control', 'public, max-age=0, must-revalidate').header('x-content-type-options', 'nosniff');
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  });
}

/**
 * True for a browser navigating to the GraphQL URL: a GET whose Accept header prefers
 * `text/html` to every JSON type it accepts (wildcards count as JSON, the API's answer). API
 * clients, which ask for JSON or send no Accept header, get Apollo as before.
 */
export function wantsPlayground(request: Pick<IncomingMessage, 'method' | 'headers'>): boolean {
  const accept = request.headers.accept;
  if (request.method !== 'GET' || accept === undefined) return false;
  let html = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const qParameter = parameters.find((parameter) => parameter.startsWith('q='));
    const q = qParameter === undefined ? 1 : Number(qParameter.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === 'text/html') html = Math.max(html, q);
    else if (['application/json', 'application/graphql-response+json', 'application/*', '*/*'].includes(type)) json = Math.max(json, q);
  }
  return html > 0 && html > json;
}

/** The playground page; `assetPath` must be the path given to `registerPlayground`. */
export function playgroundHtml(assetPath: string = PLAYGROUND_ASSET_PATH): string {
  const asset = (name: string) => `${escapeAttribute(assetPath)}/${name}`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="robots" content="noindex" />
    <link rel="icon" href="data:," />
    <title>Trading gateway · GraphQL playground</title>
    <link rel="stylesheet" href="${asset('graphiql.css')}" />
    <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
  </head>
  <body>
    <div id="graphiql">Loading the playground…</div>
    <noscript>The GraphQL playground needs JavaScript. API clients POST to this URL.</noscript>
    <script src="${asset('react.js')}"></script>
    <script src="${asset('react-dom.js')}"></script>
    <script src="${asset('graphiql.js')}"></script>
    <script src="${asset('boot.js')}"></script>
  </body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
