import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

import type { ApolloServer } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { CdnHeaders } from '../cdn/cdn-headers';
import { contextCreationError } from '../graphql/format-error';
import type { DocumentResolution, PersistedDocuments } from '../graphql/persisted/persisted-documents';
import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import type { Logger } from '../logger';
import { appendVary } from './cors';
import { type CachedAnswer, type CachedAnswers, type Identified, toApolloRequest } from './cached-answers';
import { answerMediaType, isPreflighted, readOperation, VARIABLES_TOO_DEEP, variablesTooDeep } from './graphql-request';
import { type RateLimitGate, sendRateLimited } from './rate-limit-gate';
import type { RememberedRequests, ResolvedOperation } from './remembered-requests';
import { isResultMediaType, type ResultMediaType } from './response-media-type';
import { ageOf, etagOf, notModified, storedHeaders } from './stored-answer';

export interface GraphqlRouteOptions<Context extends PolicyContext> {
  readonly path: string;
  readonly apollo: ApolloServer<Context>;
  /** Who sends this Authorization header; throws (or rejects) for a token that is refused: the request then goes to Apollo, which reports it. */
  readonly identify: (authorization: string | undefined) => Identified<Context> | Promise<Identified<Context>>;
  /** Turns document ids into texts (and refuses what the persisted-documents mode does not allow). */
  readonly persisted: PersistedDocuments;
  /** Whether a request keeps free text when persisted documents are required (the admin, the development playground). */
  readonly trusted: (request: FastifyRequest, identity: string) => boolean;
  /** A GET whose URL is longer is answered 414 (GET_MAX_URL_BYTES). */
  readonly maxGetUrlBytes: number;
  /** The response cache's answers; absent: every request is executed. */
  readonly answers?: CachedAnswers<Context> | undefined;
  /** Cache-Control, Vary and surrogate keys of stored answers, for browsers and CDNs. */
  readonly cdnHeaders: CdnHeaders;
  /** A browser asking for HTML gets the playground instead of a GraphQL answer. */
  readonly playground?: { wants(request: FastifyRequest): boolean; html(): string; readonly headers: Readonly<Record<string, string>> } | undefined;
  /** Requests resolved before, by their bytes (shared with the hit front, which answers their repeats before Fastify). */
  readonly remembered: RememberedRequests;
  /** The body of a POST that the hit front read before handing it on, for Fastify's parser to read again. */
  readonly bodyReadBefore: (request: IncomingMessage) => Buffer | undefined;
  /**
   * Budgets per viewer (absent: no rate limits), charged before anything runs. Requests refused
   * before execution (malformed, CSRF, a persisted-documents refusal) are not charged.
   */
  readonly rateLimits?: RateLimitGate | undefined;
  /** Where a failure to build a request's context is logged (see contextCreationError). */
  readonly logger: Logger;
}

/**
 * Serves GraphQL at `path`: works out what a request asks (its document, persisted or not, and
 * whether Apollo would accept it as sent), answers it from the response cache (CachedAnswers) or
 * through Apollo, and maps the answer to HTTP. Written by hand rather than through an integration
 * package so that a hit is answered from stored bytes without parsing, validating or executing
 * anything. Repeats of what it resolved are answered by the hit front before they get here.
 */
export function registerGraphqlRoute<Context extends PolicyContext>(http: FastifyInstance, options: GraphqlRouteOptions<Context>): void {
  const { apollo, identify, answers, playground, persisted, remembered, bodyReadBefore, rateLimits } = options;
  /** What a request's bytes are remembered by: a GET's URL, a POST's body (when the hit front read it, which it does for small JSON bodies). */
  const targetOf = (request: FastifyRequest): string | undefined => (request.method === 'GET' ? request.url : bodyReadBefore(request.raw)?.toString('utf8'));

  /** Executes through Apollo: the operation resolved from the request, or (when this route could not read it) the request as sent, for Apollo to refuse. */
  const viaApollo = async (request: FastifyRequest, reply: FastifyReply, operation?: ResolvedOperation) => {
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: toApolloRequest(request, operation ?? { raw: { search: searchOf(request.url), body: request.body } }),
      context: async () => {
        try {
          return (await identify(request.headers.authorization)).context(request.id);
        } catch (error) {
          // Apollo would show an unexpected error's message, log nothing and answer 500.
          throw contextCreationError(error, request.id, options.logger);
        }
      },
    });
    reply.code(response.status ?? 200);
    // What the response cache did not judge is for nobody else to keep either (Apollo says
    // nothing, and a CDN may otherwise apply a default lifetime); Apollo's own word wins.
    reply.header('cache-control', 'no-store');
    for (const [name, value] of response.headers) reply.header(name, value);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  };

  /** Charges `cost` to the viewer; true when refused, with the 429 sent. */
  const rateLimited = async (request: FastifyRequest, reply: FastifyReply, identity: string, cost: number, charged = 0): Promise<boolean> => {
    if (rateLimits === undefined || cost <= 0) return false;
    const verdict = await rateLimits.charge(request.raw, identity, cost, charged);
    if (verdict.allowed) return false;
    await sendRateLimited(reply, rateLimits.refusal(verdict));
    return true;
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (playground !== undefined && request.method === 'GET' && playground.wants(request)) {
      return reply.headers(playground.headers).send(playground.html());
    }
    if (request.method === 'GET' && Buffer.byteLength(request.url) > options.maxGetUrlBytes) return reply.code(414).header('cache-control', 'no-store').send(urlTooLong(options.maxGetUrlBytes));
    const target = targetOf(request);
    // Before anything walks them: whatever does so recursively (JSON.stringify, a cache key,
    // graphql's coercion) would overflow the stack on variables nested thousands deep.
    if (variablesTooDeep(request)) return reply.code(400).header('cache-control', 'no-store').send(VARIABLES_TOO_DEEP);
    const incoming = readOperation(request);
    // Apollo's CSRF refusal comes first, before a document is registered or counted.
    if (incoming === undefined || !isPreflighted(request)) return viaApollo(request, reply);
    const who = await identified(request);
    const resolved = await persisted.resolve(incoming, who !== undefined && options.trusted(request, who.identity));
    if (resolved.kind === 'refused') return sendRefusal(reply, resolved);
    const operation: ResolvedOperation = { query: resolved.query, operationName: incoming.operationName, variables: incoming.variables, extensions: incoming.extensions };
    // A refused token is Apollo's to report (401, nothing run): it costs its sender's address 1.
    if (who === undefined) return (await rateLimited(request, reply, 'anonymous', 1)) ? reply : viaApollo(request, reply, operation);
    const cost = rateLimits === undefined ? 0 : rateLimits.costOf(operation);
    // Sent as Apollo would send it (406 is Apollo's to answer).
    const mediaType = answerMediaType(request);
    const keys = answers === undefined || mediaType === undefined ? undefined : answers.responseCache.keysFor(operation, who.identity);
    if (answers === undefined || keys === undefined || mediaType === undefined) {
      if (await rateLimited(request, reply, who.identity, cost)) return reply;
      await resolved.register?.();
      return viaApollo(request, reply, operation);
    }
    if (target !== undefined) remembered.remember(target, { operation, publicKey: keys.publicKey, outcome: resolved.outcome, cost });
    // In two steps, as the hit front charges: a hit's cost first, the rest only when no near copy answers.
    const hitCost = rateLimits === undefined ? 0 : rateLimits.hitCost(cost);
    if (await rateLimited(request, reply, who.identity, hitCost)) return reply;
    await resolved.register?.();
    const near = answers.near(keys.publicKey, who.identity, operation);
    if (near !== undefined) {
      // As the hit front does: the writes of one event-loop turn go out together.
      await new Promise((resolve) => setImmediate(resolve));
      return sendStored(request, reply, near, 'HIT', mediaType, answers.responseCache, options.cdnHeaders);
    }
    const rest = cost - hitCost;
    if (await rateLimited(request, reply, who.identity, rest, hitCost)) return reply;
    const answer = await answers.answer(request, request.id, who, operation, keys.publicKey);
    // Charged as an execution, answered by the shared tier: a hit's cost was enough.
    if (rest > 0 && answer.kind === 'stored' && answer.marker === 'HIT-SHARED') rateLimits?.refund(request.raw, who.identity, rest, hitCost);
    return sendAnswer(request, reply, answer, mediaType, answers.responseCache, options.cdnHeaders);
  };

  /** Who is asking, or `undefined` for a refused token (Apollo reports it when it builds the context). */
  const identified = async (request: FastifyRequest): Promise<Identified<Context> | undefined> => {
    try {
      return await identify(request.headers.authorization);
    } catch {
      return undefined;
    }
  };

  http.get(options.path, handler);
  http.post(options.path, {
    // The hit front read the body already (to see whether it knew it): Fastify's parser reads it again from here.
    preParsing: (request, _reply, payload, done) => {
      const body = bodyReadBefore(request.raw);
      done(null, body === undefined ? payload : Readable.from([body], { objectMode: false }));
    },
    handler,
  });
  // Not GraphQL over HTTP: 405 naming the methods that are, rather than "no such route".
  http.route({
    method: ['PUT', 'PATCH', 'DELETE'],
    url: options.path,
    handler: (_request, reply) => reply.code(405).headers({ allow: 'GET, POST', 'cache-control': 'no-store' }).send(METHOD_NOT_ALLOWED),
  });
}

const METHOD_NOT_ALLOWED = { errors: [{ message: 'GraphQL is served over GET (queries) and POST', extensions: { code: 'METHOD_NOT_ALLOWED' } }] };

function urlTooLong(maxBytes: number) {
  return { errors: [{ message: `The URL is longer than ${maxBytes} bytes: send this operation with POST (or as a persisted document id)`, extensions: { code: 'URI_TOO_LONG' } }] };
}

/** A request the persisted-documents rules refuse, answered as Apollo answers errors before execution; never stored by an intermediary unless it says otherwise. */
function sendRefusal(reply: FastifyReply, refusal: Extract<DocumentResolution, { kind: 'refused' }>) {
  return reply
    .code(refusal.status)
    .header('cache-control', 'private, no-store')
    .headers(refusal.headers ?? {})
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ errors: [{ message: refusal.message, extensions: { code: refusal.code } }] }));
}

/** The stored bytes as `mediaType`, with Cache-Control, Age, ETag and surrogate keys; a GET whose If-None-Match names the ETag gets 304. */
function sendStored(request: FastifyRequest, reply: FastifyReply, stored: StoredResponse, marker: string, mediaType: ResultMediaType, responseCache: ResponseCache, cdnHeaders: CdnHeaders) {
  const cdn = cdnHeaders.of(stored);
  reply.headers(storedHeaders(stored, cdn, mediaType)).header('age', ageOf(stored, Date.now())).header('x-cache', marker);
  // The same URL serves the playground to browsers that ask for HTML. Added to the Vary already
  // there (CORS's Origin), never in its place.
  appendVary(reply, ...cdn.vary);
  if (notModified(request.method, request.headers['if-none-match'], etagOf(stored, mediaType))) {
    responseCache.noteNotModified();
    return reply.code(304).send();
  }
  return reply.code(200).header('content-type', mediaType).send(stored.body);
}

/**
 * What the response cache answered, as Fastify's reply. An answer it did not keep may come from
 * another request's execution (single flight), negotiated for that request's Accept: a single
 * result's media type is this request's own.
 */
function sendAnswer(request: FastifyRequest, reply: FastifyReply, answer: CachedAnswer, mediaType: ResultMediaType, responseCache: ResponseCache, cdnHeaders: CdnHeaders) {
  if (answer.kind === 'stored') return sendStored(request, reply, answer.stored, answer.marker, mediaType, responseCache, cdnHeaders);
  reply.code(answer.status);
  for (const [name, value] of answer.headers) reply.header(name, name === 'content-type' && isResultMediaType(value) ? mediaType : value);
  return reply.header('cache-control', 'no-store').header('x-cache', 'BYPASS').send(answer.body);
}

/** The query string of a URL, with its `?` (empty for none). */
function searchOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? '' : url.slice(queryStart);
}
