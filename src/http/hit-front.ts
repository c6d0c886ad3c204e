import type { IncomingMessage, ServerResponse } from 'node:http';

import type { CdnHeaders } from '../cdn/cdn-headers';
import type { PersistedDocuments } from '../graphql/persisted/persisted-documents';
import type { ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import type { HttpMetrics } from '../operator/prometheus';
import type { CorsPolicy } from './cors';
import { acceptsJson, getContentTypeAccepted, isJsonContentType, isPreflighted } from './graphql-request';
import type { RememberedRequest, RememberedRequests } from './remembered-requests';
import { ageOf, JSON_CONTENT_TYPE, notModified, storedHeaders } from './stored-answer';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export interface HitFrontOptions {
  /** The GraphQL route's path: only its GETs and POSTs are looked at. */
  readonly path: string;
  readonly responseCache: ResponseCache;
  /** Filled by the GraphQL route as it resolves requests; read here. */
  readonly remembered: RememberedRequests;
  readonly persisted: Pick<PersistedDocuments, 'note'>;
  /**
   * The viewer's identity (`anonymous`, `user:42`, `admin`), or `undefined` for a refused token,
   * which the route lets Apollo report; at once when it needs no lookup.
   */
  readonly identify: (authorization: string | undefined) => string | Promise<string | undefined>;
  readonly cdnHeaders: CdnHeaders;
  readonly cors: CorsPolicy;
  /** Whether a GET is a browser asking for the playground (absent: no playground). */
  readonly wantsPlayground?: ((request: IncomingMessage) => boolean) | undefined;
  /** Fastify's request ids, so that both kinds of answer carry the same kind of `x-request-id`. */
  readonly requestId: () => string;
  readonly metrics: HttpMetrics;
  /** A POST body longer than this goes to Fastify unread (bodies this process remembers are small). */
  readonly maxBodyBytes: number;
}

/**
 * The cheapest answer the gateway gives, on node's own request and response in front of Fastify:
 * a GET or POST whose bytes this process has resolved before (RememberedRequests), asked with the
 * headers that let it be answered from the cache, whose answer is a near copy. It gets what the
 * GraphQL route would send (stored-answer.ts) plus what Fastify's hooks add: the request id, CORS
 * headers, the Origin in Vary, and the request's metrics.
 *
 * Everything else goes on to Fastify untouched: a first sight, a shared-tier hit, a miss, a
 * refusal, a playground page. A POST's body has been read by then; the route replays it
 * (`bodyOf`). Why a front rather than a route: in a profile of near hits, Fastify's routing,
 * hooks and reply objects cost more than everything the cache did (BENCHMARKS.md).
 */
export class HitFront {
  /** POST bodies read here, for the route to replay (see bodyOf). */
  private readonly bodies = new WeakMap<IncomingMessage, Buffer>();
  /** Per stored response, the headers of its answers (see headOf). */
  private readonly heads = new WeakMap<StoredResponse, { readonly ok: readonly string[]; readonly notModified: readonly string[] }>();

  constructor(private readonly options: HitFrontOptions) {}

  /** A request listener for node's server: answers what it can and hands the rest to `next` (Fastify's). */
  listener(next: RequestListener): RequestListener {
    const { path, remembered, maxBodyBytes } = this.options;
    const getPrefix = `${path}?`;
    return (request, response) => {
      const startedMs = performance.now();
      const { method, url = '' } = request;
      if (method === 'GET' && url.startsWith(getPrefix)) {
        const known = remembered.get(url);
        if (known === undefined) next(request, response);
        else this.answer(request, response, known, startedMs, next);
        return;
      }
      const length = Number(request.headers['content-length']);
      if (method !== 'POST' || url !== path || !(length > 0 && length <= maxBodyBytes) || !isJsonContentType(request)) {
        next(request, response);
        return;
      }
      const chunks: Buffer[] = [];
      // `on`, not `once`: each fires once anyway, and a once-wrapper per request is garbage.
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        this.bodies.set(request, body);
        const known = remembered.get(body.toString('utf8'));
        if (known === undefined) next(request, response);
        else this.answer(request, response, known, startedMs, next);
      });
      // An aborted upload: node closes the connection; there is nobody to answer.
      request.on('error', ignore);
    };
  }

  /** The body of a POST this front read before handing it on, `undefined` if it read none. */
  bodyOf(request: IncomingMessage): Buffer | undefined {
    return this.bodies.get(request);
  }

  private answer(request: IncomingMessage, response: ServerResponse, known: RememberedRequest, startedMs: number, next: RequestListener): void {
    // The route's own checks, in its order: whatever fails one is for the route (and Apollo) to answer.
    const { wantsPlayground } = this.options;
    if ((wantsPlayground !== undefined && wantsPlayground(request)) || !getContentTypeAccepted(request) || !isPreflighted(request) || !acceptsJson(request)) {
      next(request, response);
      return;
    }
    const identity = this.options.identify(request.headers.authorization);
    // Synchronous for a request without credentials, the common case: no promise on that path.
    if (typeof identity === 'string') {
      this.answerAs(identity, request, response, known, startedMs, next);
      return;
    }
    identity.then(
      (who) => (who === undefined ? next(request, response) : this.answerAs(who, request, response, known, startedMs, next)),
      () => next(request, response),
    );
  }

  private answerAs(identity: string, request: IncomingMessage, response: ServerResponse, known: RememberedRequest, startedMs: number, next: RequestListener): void {
    const { responseCache, persisted } = this.options;
    const stored = responseCache.nearLookup(known.publicKey, responseCache.privateKeyOf(known.publicKey, identity));
    if (stored === undefined) {
      next(request, response);
      return;
    }
    persisted.note(known.outcome);
    // As the route does with near copies: the writes of one event-loop turn go out together
    // (a third less CPU per hit, see BENCHMARKS.md).
    setImmediate(() => this.send(request, response, stored, startedMs));
  }

  private send(request: IncomingMessage, response: ServerResponse, stored: StoredResponse, startedMs: number): void {
    const { cors, requestId, metrics, responseCache, path } = this.options;
    const notModifiedHere = notModified(request.method, request.headers['if-none-match'], stored);
    // node takes headers as a flat list of names and values: the stored response's part is built once.
    const head = this.headOf(stored, notModifiedHere).slice();
    head.push('age', ageOf(stored, Date.now()), 'x-request-id', requestId());
    const allowOrigin = cors.allowOriginFor(request.headers.origin);
    if (allowOrigin !== undefined) head.push('access-control-allow-origin', allowOrigin);
    if (notModifiedHere) {
      responseCache.noteNotModified();
      response.writeHead(304, head).end();
    } else {
      response.writeHead(200, head).end(stored.body);
    }
    metrics.observe(request.method ?? 'OTHER', path, response.statusCode, (performance.now() - startedMs) / 1000);
  }

  /** The headers of every near-hit answer from `stored`: 200 with its body, or 304 without. */
  private headOf(stored: StoredResponse, notModifiedHere: boolean): readonly string[] {
    let heads = this.heads.get(stored);
    if (heads === undefined) {
      const cdn = this.options.cdnHeaders.of(stored);
      const vary = this.options.cors.enabled ? [...cdn.vary, 'origin'] : cdn.vary;
      const common = [...Object.entries(storedHeaders(stored, cdn)).flat(), 'x-cache', 'HIT', ...(vary.length === 0 ? [] : ['vary', vary.join(', ')])];
      heads = { notModified: common, ok: [...common, 'content-type', JSON_CONTENT_TYPE, 'content-length', String(stored.body.length)] };
      this.heads.set(stored, heads);
    }
    return notModifiedHere ? heads.notModified : heads.ok;
  }
}

function ignore(): void {}
