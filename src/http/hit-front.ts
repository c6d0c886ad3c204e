import type { IncomingMessage, ServerResponse } from 'node:http';

import type { CdnHeaders } from '../cdn/cdn-headers';
import type { PersistedDocuments } from '../graphql/persisted/persisted-documents';
import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { StoredResponse } from '../graphql/response-cache/response-cache';
import type { Logger } from '../logger';
import type { HttpMetrics } from '../operator/prometheus';
import type { Refusal, Verdict } from '../rate-limit/rate-limiter';
import type { CachedAnswer, CachedAnswers, Identified } from './cached-answers';
import { type CorsPolicy, EXPOSED_HEADERS } from './cors';
import { answerMediaType, getContentTypeAccepted, isJsonContentType, isPreflighted } from './graphql-request';
import type { RateLimitGate } from './rate-limit-gate';
import type { RememberedRequest, RememberedRequests } from './remembered-requests';
import { APPLICATION_JSON, isResultMediaType, type ResultMediaType } from './response-media-type';
import { ageOf, etagOf, INTERNAL_ERROR_BODY, notModified, storedHeaders } from './stored-answer';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export interface HitFrontOptions<Context extends PolicyContext> {
  /** The GraphQL route's path: only its GETs and POSTs are looked at. */
  readonly path: string;
  readonly answers: CachedAnswers<Context>;
  /** Filled by the GraphQL route as it resolves requests; read here. */
  readonly remembered: RememberedRequests;
  readonly persisted: Pick<PersistedDocuments, 'note'>;
  /** Who sends this Authorization header, at once when that needs no lookup; rejects for a refused token, which the route lets Apollo report. */
  readonly identify: (authorization: string | undefined) => Identified<Context> | Promise<Identified<Context>>;
  readonly cdnHeaders: CdnHeaders;
  readonly cors: CorsPolicy;
  /** Whether a GET is a browser asking for the playground (absent: no playground). */
  readonly wantsPlayground?: ((request: IncomingMessage) => boolean) | undefined;
  /** Fastify's request ids, so that both kinds of answer carry the same kind of `x-request-id`. */
  readonly requestId: () => string;
  readonly metrics: HttpMetrics;
  /** A POST body longer than this goes to Fastify unread (bodies this process remembers are small). */
  readonly maxBodyBytes: number;
  /** Budgets per viewer (absent: no rate limits): charged from the remembered cost, without a parse. */
  readonly rateLimits?: RateLimitGate | undefined;
  readonly logger: Logger;
  /**
   * Binds a listener of the request body's end to the request's async context (absent: it runs
   * as it is). Node emits body events from the connection's context; with tracing, the answer
   * that follows must run in the request's trace.
   */
  readonly inRequestContext?: (<Args extends unknown[]>(listener: (...args: Args) => void) => (...args: Args) => void) | undefined;
}

/**
 * The gateway's answer to a request it has seen before, on node's own request and response, in
 * front of Fastify: a GET or POST whose bytes this process has resolved (RememberedRequests), asked
 * with headers that let the response cache answer it. It is answered as the GraphQL route would
 * answer it (CachedAnswers, stored-answer.ts): the near copy, the shared tier, or one execution;
 * plus what Fastify's hooks add: the request id, CORS headers, the Origin in Vary, the metrics.
 *
 * Everything else goes on to Fastify untouched: a first sight, a refused token, a playground page,
 * headers the route must judge (content type, CSRF, Accept). A POST's body has been read by then;
 * the route replays it (`bodyOf`). Why a front rather than a route: in a profile of near hits,
 * Fastify's routing, hooks and reply objects cost more than everything the cache did (BENCHMARKS.md).
 */
export class HitFront<Context extends PolicyContext> {
  /** POST bodies read here, for the route to replay (see bodyOf). */
  private readonly bodies = new WeakMap<IncomingMessage, Buffer>();
  /** Per stored response, the headers of its answers by marker and media type (see headOf). */
  private readonly heads = new WeakMap<StoredResponse, Record<string, { readonly ok: readonly string[]; readonly notModified: readonly string[] }>>();

  constructor(private readonly options: HitFrontOptions<Context>) {}

  /** A request listener for node's server: answers what it can and hands the rest to `next` (Fastify's). */
  listener(next: RequestListener): RequestListener {
    const { path, remembered, maxBodyBytes, inRequestContext } = this.options;
    const getPrefix = `${path}?`;
    return (request, response) => {
      const startedMs = performance.now();
      const { method, url = '' } = request;
      if (method === 'GET' && url.startsWith(getPrefix)) {
        const known = remembered.get(url);
        if (known === undefined) next(request, response);
        else this.answer(request, response, known, startedMs, next, undefined);
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
      const ended = () => {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const known = remembered.get(body.toString('utf8'));
        if (known === undefined) this.handOn(request, response, next, body);
        else this.answer(request, response, known, startedMs, next, body);
      };
      request.on('end', inRequestContext === undefined ? ended : inRequestContext(ended));
      // An aborted upload: node closes the connection; there is nobody to answer.
      request.on('error', ignore);
    };
  }

  /** The body of a POST this front read before handing it on, `undefined` if it read none. */
  bodyOf(request: IncomingMessage): Buffer | undefined {
    return this.bodies.get(request);
  }

  /**
   * Fastify takes the request; a POST's body, read here already, is kept for the route to replay.
   * Kept only then: a WeakMap entry for every POST, answered here or not, cost a tenth of a near
   * hit's CPU (0.87-0.94 of it without, side by side: BENCHMARKS.md, "The hit front").
   */
  private handOn(request: IncomingMessage, response: ServerResponse, next: RequestListener, body: Buffer | undefined): void {
    if (body !== undefined) this.bodies.set(request, body);
    next(request, response);
  }

  /** `body`: a POST's, read here; `undefined` for a GET. */
  private answer(request: IncomingMessage, response: ServerResponse, known: RememberedRequest, startedMs: number, next: RequestListener, body: Buffer | undefined): void {
    // The route's own checks, in its order: whatever fails one is for the route (and Apollo) to answer.
    const { wantsPlayground, identify } = this.options;
    if ((wantsPlayground !== undefined && wantsPlayground(request)) || !getContentTypeAccepted(request) || !isPreflighted(request) || answerMediaType(request) === undefined) {
      this.handOn(request, response, next, body);
      return;
    }
    const who = identify(request.headers.authorization);
    // Synchronous for a request without credentials, the common case: no promise on that path.
    if (!(who instanceof Promise)) {
      this.answerAs(who, request, response, known, startedMs);
      return;
    }
    who.then(
      (identified) => this.answerAs(identified, request, response, known, startedMs),
      () => this.handOn(request, response, next, body),
    );
  }

  /**
   * Charged in two steps: what a hit costs, before the near copy is looked for (a refused request
   * is neither counted as a hit nor answered); then, without a near copy, the rest of the query's
   * cost before the shared tier or an execution, given back if the shared tier answered. Both
   * steps are synchronous while the viewer's lease covers them (RateLimiter), as for a hot client.
   */
  private answerAs(who: Identified<Context>, request: IncomingMessage, response: ServerResponse, known: RememberedRequest, startedMs: number): void {
    const { rateLimits } = this.options;
    if (rateLimits === undefined) {
      this.serve(who, request, response, known, startedMs, 0);
      return;
    }
    const hitCost = rateLimits.hitCost(known.cost);
    this.afterCharge(rateLimits.charge(request, who.identity, hitCost), request, response, startedMs, () => this.serve(who, request, response, known, startedMs, hitCost));
  }

  /** `charged`: what the request has spent already (its hit cost); an answer other than a near copy costs the rest of the query's cost. */
  private serve(who: Identified<Context>, request: IncomingMessage, response: ServerResponse, known: RememberedRequest, startedMs: number, charged: number): void {
    const { answers, persisted, requestId } = this.options;
    persisted.note(known.outcome);
    const near = answers.near(known.publicKey, who.identity, known.operation);
    if (near !== undefined) {
      const id = requestId();
      // As the route does with near copies: the writes of one event-loop turn go out together
      // (a third less CPU per hit, see BENCHMARKS.md).
      setImmediate(() => this.send(request, response, { kind: 'stored', stored: near, marker: 'HIT' }, id, startedMs));
      return;
    }
    const { rateLimits } = this.options;
    const rest = known.cost - charged;
    if (rateLimits === undefined || rest <= 0) {
      this.answerFromCache(who, request, response, known, startedMs, undefined);
      return;
    }
    this.afterCharge(rateLimits.charge(request, who.identity, rest, charged), request, response, startedMs, () => this.answerFromCache(who, request, response, known, startedMs, charged));
  }

  /** Runs `then` once the charge is allowed; answers 429 otherwise. */
  private afterCharge(verdict: Verdict | Promise<Verdict>, request: IncomingMessage, response: ServerResponse, startedMs: number, then: () => void): void {
    if (verdict instanceof Promise) verdict.then((settled) => (settled.allowed ? then() : this.refuse(request, response, settled, startedMs)), (error: unknown) => this.failed(request, response, error, this.options.requestId(), startedMs));
    else if (verdict.allowed) then();
    else this.refuse(request, response, verdict, startedMs);
  }

  private refuse(request: IncomingMessage, response: ServerResponse, refusal: Refusal, startedMs: number): void {
    const answer = this.options.rateLimits!.refusal(refusal);
    this.write(request, response, answer.status, this.withOriginVary([...answer.head]), answer.body, this.options.requestId(), startedMs);
  }

  /**
   * The shared tier, or an execution. `charged`: the hit cost charged first; the rest of the cost,
   * charged as for an execution, is given back if the shared tier answers.
   */
  private answerFromCache(who: Identified<Context>, request: IncomingMessage, response: ServerResponse, known: RememberedRequest, startedMs: number, charged: number | undefined): void {
    const { answers, rateLimits } = this.options;
    const id = this.options.requestId();
    answers.answer(request, id, who, known.operation, known.publicKey).then(
      (answer) => {
        if (charged !== undefined && answer.kind === 'stored' && answer.marker === 'HIT-SHARED') rateLimits?.refund(request, who.identity, known.cost - charged, charged);
        this.send(request, response, answer, id, startedMs);
      },
      (error: unknown) => this.failed(request, response, error, id, startedMs),
    );
  }

  /** As Fastify's error handler answers what a route throws. */
  private failed(request: IncomingMessage, response: ServerResponse, error: unknown, id: string, startedMs: number): void {
    this.options.logger.error({ err: error, requestId: id }, 'unexpected error in HTTP handler');
    if (response.headersSent) response.destroy();
    else this.write(request, response, 500, this.withOriginVary(['content-type', APPLICATION_JSON, 'content-length', String(Buffer.byteLength(INTERNAL_ERROR_BODY))]), INTERNAL_ERROR_BODY, id, startedMs);
  }

  private send(request: IncomingMessage, response: ServerResponse, answer: CachedAnswer, id: string, startedMs: number): void {
    // Acceptable: `answer` checked it (and remembers it, so this is a lookup).
    const mediaType = answerMediaType(request) ?? APPLICATION_JSON;
    if (answer.kind === 'uncached') {
      // As the route sends it: Apollo's headers, with its own word on caching replaced, and a
      // single result's media type this request's own (single flight may have run another's).
      const apolloHeaders = answer.headers
        .filter(([name]) => name !== 'cache-control' && name !== 'x-cache' && name !== 'content-length')
        .map(([name, value]): [string, string] => [name, name === 'content-type' && isResultMediaType(value) ? mediaType : value]);
      const head = this.withOriginVary([...apolloHeaders.flat(), 'cache-control', 'no-store', 'x-cache', 'BYPASS', 'content-length', String(answer.body.length)]);
      this.write(request, response, answer.status, head, answer.body, id, startedMs);
      return;
    }
    const { stored, marker } = answer;
    const revalidated = notModified(request.method, request.headers['if-none-match'], etagOf(stored, mediaType));
    if (revalidated) this.options.answers.responseCache.noteNotModified();
    const head = this.headOf(stored, marker, mediaType, revalidated).slice();
    head.push('age', ageOf(stored, Date.now()));
    this.write(request, response, revalidated ? 304 : 200, head, revalidated ? undefined : stored.body, id, startedMs);
  }

  /** The answer with what Fastify's hooks add: the request id, CORS, the metrics (Origin is in `head`'s Vary already: see withOriginVary). */
  private write(request: IncomingMessage, response: ServerResponse, status: number, head: string[], body: Buffer | string | undefined, id: string, startedMs: number): void {
    const { cors, metrics, path } = this.options;
    head.push('x-request-id', id);
    const allowOrigin = cors.allowOriginFor(request.headers.origin);
    if (allowOrigin !== undefined) head.push('access-control-allow-origin', allowOrigin, 'access-control-expose-headers', EXPOSED_HEADERS);
    response.writeHead(status, head).end(body);
    metrics.observe(request.method ?? 'OTHER', path, status, (performance.now() - startedMs) / 1000);
  }

  /** Origin added to a Vary, as the CORS hook does to Fastify's answers (a stored answer's head has it built in: see headOf). */
  private withOriginVary(head: string[]): string[] {
    if (this.options.cors.enabled) varyByOrigin(head);
    return head;
  }

  /** The headers of every answer of `stored` with this marker as `mediaType`: 200 with its body, or 304 without; node takes them as a flat list of names and values. */
  private headOf(stored: StoredResponse, marker: string, mediaType: ResultMediaType, revalidated: boolean): readonly string[] {
    let byKind = this.heads.get(stored);
    if (byKind === undefined) {
      byKind = {};
      this.heads.set(stored, byKind);
    }
    // JSON, the common case, costs no concatenation.
    const kind = mediaType === APPLICATION_JSON ? marker : `${marker} ${mediaType}`;
    let heads = byKind[kind];
    if (heads === undefined) {
      const cdn = this.options.cdnHeaders.of(stored);
      const vary = this.options.cors.enabled ? [...cdn.vary, 'origin'] : cdn.vary;
      const common = [...Object.entries(storedHeaders(stored, cdn, mediaType)).flat(), 'x-cache', marker, ...(vary.length === 0 ? [] : ['vary', vary.join(', ')])];
      heads = { notModified: common, ok: [...common, 'content-type', mediaType, 'content-length', String(stored.body.length)] };
      byKind[kind] = heads;
    }
    return revalidated ? heads.notModified : heads.ok;
  }
}

function ignore(): void {}

/** Adds Origin to the Vary of a flat header list, as the CORS hook does to Fastify's answers. */
function varyByOrigin(head: string[]): void {
  for (let i = 0; i < head.length; i += 2) {
    if (head[i]!.toLowerCase() !== 'vary') continue;
    if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(head[i + 1]!)) head[i + 1] = `${head[i + 1]!}, origin`;
    return;
  }
  head.push('vary', 'origin');
}
