import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { htmlPage } from './html-page';

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
 * GraphiQL sets inline styles and inlines its fonts and icons as data: URLs. `connect-src 'self'`
 * also admits the page's own host over ws: and wss: (CSP Level 3), the subscriptions' socket, and
 * nothing else: naming the schemes instead would let the page open sockets to any host.
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
 * globals (`React`, `ReactDOM`); React 19 ships no UMD build, hence React 18. graphql-ws's UMD
 * build (the global `graphqlWs`) is the subscriptions' client: GraphiQL bundles one too, but
 * keeps it to itself, and its defaults retry a refused credential for over half a minute.
 */
const ASSET_SOURCES: Readonly<Record<string, AssetSource>> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', contentType: JS },
  'react-dom.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: JS },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', contentType: JS },
  'graphql-ws.js': { pkg: 'graphql-ws', file: 'umd/graphql-ws.min.js', contentType: JS },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
};

/** The query a first visit opens with (GraphiQL keeps the user's own after that, in this browser). */
const DEFAULT_QUERY = `# Trading gateway playground.
# Ctrl-Enter runs the query; the book icon (top left) opens the schema.
# Admin operations (invalidateCache, triggerCacheWarming) need the
# admin token: open Headers below and enter
# {"Authorization": "Bearer <ADMIN_API_TOKEN>"}
# Subscriptions run here too, over a WebSocket, and stream into the
# result pane until stopped, e.g.
# subscription { prices(symbols: ["EUR_USD"]) { symbol bid ask time } }

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
 * route), so the page needs to know neither host nor path; subscriptions go to the same URL over
 * WebSocket (graphql-ws), with the Authorization header of GraphiQL's Headers pane, if any, as the
 * socket's credential (`connection_init` payload `{ authorization }`), and anonymous otherwise.
 * One lazy client per credential: it opens its socket for a subscription and closes it when the
 * subscription ends. A refused credential (4403) is not retried, so that its error shows at once;
 * errors (refused, invalid, socket closed) show in the result pane as `{ errors: [...] }`.
 * `?query=` and `?variables=` prefill the editors, to share a link to an operation. An external
 * file rather than an inline script so that the page's policy can forbid inline scripts.
 */
const BOOT_SCRIPT = `(function () {
  'use strict';
  var params = new URLSearchParams(window.location.search);
  var endpoint = window.location.origin + window.location.pathname;
  var socketUrl = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + window.location.pathname;
  var fetchers = new Map();
  function authorizationOf(headers) {
    if (headers === null || typeof headers !== 'object') return undefined;
    var names = Object.keys(headers);
    for (var i = 0; i < names.length; i++) {
      if (names[i].toLowerCase() === 'authorization' && typeof headers[names[i]] === 'string') return headers[names[i]];
    }
    return undefined;
  }
  // GraphiQL shows a subscription's error but also leaves it as an unhandled rejection in the
  // page (@graphiql/toolkit 0.11): errors are handed to it as a result of errors instead.
  function errorsAsResults(client) {
    return {
      subscribe: function (payload, sink) {
        return client.subscribe(payload, {
          next: function (value) { sink.next(value); },
          complete: function () { sink.complete(); },
          error: function (error) {
            sink.next({ errors: Array.isArray(error) ? error : [{ message: describeError(error) }] });
            sink.complete();
          },
        });
      },
    };
  }
  function describeError(error) {
    if (error !== null && typeof error === 'object' && 'code' in error && 'reason' in error) return ('Socket closed with event ' + error.code + ' ' + error.reason).trim();
    if (error instanceof Error) return error.message;
    return 'The WebSocket to ' + socketUrl + ' failed';
  }
  function fetcherFor(authorization) {
    var key = authorization === undefined ? '' : authorization;
    var fetcher = fetchers.get(key);
    if (fetcher === undefined) {
      fetcher = GraphiQL.createFetcher({
        url: endpoint,
        headers: { ${JSON.stringify(PLAYGROUND_REQUEST_HEADER)}: '1' },
        wsClient: errorsAsResults(graphqlWs.createClient({
          url: socketUrl,
          connectionParams: authorization === undefined ? undefined : { authorization: authorization },
          // graphql-ws retries any close event by default.
          shouldRetry: function (event) { return event !== null && typeof event === 'object' && 'code' in event && event.code !== 4403; },
        })),
      });
      fetchers.set(key, fetcher);
    }
    return fetcher;
  }
  var props = {
    fetcher: function (graphQLParams, options) {
      // GraphiQL tells a subscription (socket) from a query (POST) by the editor's parsed document,
      // which lags the text by a moment after typing: the text being sent decides instead.
      var documentAST = options && options.documentAST;
      try {
        documentAST = GraphiQL.GraphQL.parse(graphQLParams.query);
      } catch (error) {
        // Not a valid document: the server says why.
      }
      return fetcherFor(authorizationOf(options && options.headers))(graphQLParams, Object.assign({}, options, { documentAST: documentAST }));
    },
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
  return htmlPage({
    title: 'Trading gateway · GraphQL playground',
    stylesheet: `${assetPath}/graphiql.css`,
    inlineStyle: 'html, body, #graphiql { height: 100%; margin: 0; }',
    body: `    <div id="graphiql">Loading the playground…</div>
    <noscript>The GraphQL playground needs JavaScript. API clients POST to this URL.</noscript>`,
    scripts: ['react.js', 'react-dom.js', 'graphiql.js', 'graphql-ws.js', 'boot.js'].map((name) => `${assetPath}/${name}`),
  });
}
