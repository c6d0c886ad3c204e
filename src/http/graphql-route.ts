import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { CdnHeaders } from '../cdn/cdn-headers';
import type { DocumentResolution, PersistedDocuments } from '../graphql/persisted/persisted-documents';
import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import { appendVary } from './cors';
import { acceptsJson, getContentTypeAccepted, isPreflighted, readOperation, VARIABLES_TOO_DEEP, variablesTooDeep } from './graphql-request';
import type { RememberedRequests, ResolvedOperation } from './remembered-requests';
import { ageOf, JSON_CONTENT_TYPE, notModified, storedHeaders } from './stored-answer';

/** Who is asking, resolved once per request. */
export interface Identified<Context> {
  /** Keys the viewer's PRIVATE responses (`anonymous`, `user:42`, `admin`). */
  readonly identity: string;
  /** A fresh per-request context (loaders, policy). */
  context(): Context;
}

export interface GraphqlRouteOptions<Context extends PolicyContext> {
  readonly path: string;
  readonly apollo: ApolloServer<Context>;
  /** Throws for a token that is refused; the request then goes to Apollo, which reports it. */
  readonly identify: (request: FastifyRequest) => Promise<Identified<Context>>;
  /** Turns document ids into texts (and refuses what the persisted-documents mode does not allow). */
  readonly persisted: PersistedDocuments;
  /** Whether a request keeps free text when persisted documents are required (the admin, the development playground). */
  readonly trusted: (request: FastifyRequest, identity: string) => boolean;
  /** A GET whose URL is longer is answered 414 (GET_MAX_URL_BYTES). */
  readonly maxGetUrlBytes: number;
  /** Absent: every request is executed. */
  readonly responseCache?: ResponseCache | undefined;
  /** Cache-Control, Vary and surrogate keys of stored answers, for browsers and CDNs. */
  readonly cdnHeaders: CdnHeaders;
  /** A browser asking for HTML gets the playground instead of a GraphQL answer. */
  readonly playground?: { wants(request: FastifyRequest): boolean; html(): string; readonly headers: Readonly<Record<string, string>> } | undefined;
  /** Requests resolved before, by their bytes (shared with the hit front, which answers their near hits before Fastify). */
  readonly remembered: RememberedRequests;
  /** The body of a POST that the hit front read before handing it on, for Fastify's parser to read again. */
  readonly bodyReadBefore: (request: IncomingMessage) => Buffer | undefined;
}

/**
 * Serves GraphQL at `path`, with the response-cache fast path in front of Apollo: a hit is
 * answered from the stored bytes without parsing, validating or executing anything. Written by
 * hand rather than through an integration package for exactly that reason.
 */
export function registerGraphqlRoute<Context extends PolicyContext>(http: FastifyInstance, options: GraphqlRouteOptions<Context>): void {
  const { apollo, identify, responseCache, playground, persisted, remembered, bodyReadBefore } = options;
  /** What a request's bytes are remembered by: a GET's URL, a POST's body (when the hit front read it, which it does for small JSON bodies). */
  const targetOf = (request: FastifyRequest): string | undefined => (request.method === 'GET' ? request.url : bodyReadBefore(request.raw)?.toString('utf8'));

  /** Executes through Apollo: the operation resolved from the request, or (when this route could not read it) the request as sent, for Apollo to refuse. */
  const viaApollo = async (request: FastifyRequest, reply: FastifyReply, operation?: ResolvedOperation) => {
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: toApolloRequest(request, operation),
      context: async () => (await identify(request)).context(),
    });
    reply.code(response.status ?? 200);
    // What the response cache did not judge is for nobody else to keep either (Apollo says
    // nothing, and a CDN may otherwise apply a default lifetime); Apollo's own word wins.
    reply.header('cache-control', 'no-store');
    for (const [name, value] of response.headers) reply.header(name, value);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (playground !== undefined && request.method === 'GET' && playground.wants(request)) {
      return reply.headers(playground.headers).send(playground.html());
    }
    if (request.method === 'GET' && Buffer.byteLength(request.url) > options.maxGetUrlBytes) return reply.code(414).header('cache-control', 'no-store').send(urlTooLong(options.maxGetUrlBytes));
    const target = targetOf(request);
    const known = target === undefined ? undefined : remembered.get(target);
    if (known !== undefined && responseCache !== undefined && getContentTypeAccepted(request) && isPreflighted(request) && acceptsJson(request)) {
      const who = await identified(request);
      if (who !== undefined) {
        persisted.note(known.outcome);
        return fromCache(responseCache, request, reply, who, known.operation, known.publicKey);
      }
    }
    // Before anything walks them: whatever does so recursively (JSON.stringify, a cache key,
    // graphql's coercion) would overflow the stack on variables nested thousands deep.
    if (variablesTooDeep(request)) return reply.code(400).send(VARIABLES_TOO_DEEP);
    const incoming = readOperation(request);
    // Apollo's CSRF refusal comes first, before a document is registered or counted.
    if (incoming === undefined || !isPreflighted(request)) return viaApollo(request, reply);
    const who = await identified(request);
    const resolved = await persisted.resolve(incoming, who !== undefined && options.trusted(request, who.identity));
    if (resolved.kind === 'refused') return sendRefusal(reply, resolved);
    const operation: ResolvedOperation = { query: resolved.query, operationName: incoming.operationName, variables: incoming.variables, extensions: incoming.extensions };
    if (responseCache === undefined || who === undefined || !acceptsJson(request)) return viaApollo(request, reply, operation);

    const keys = responseCache.keysFor(operation, who.identity);
    if (keys === undefined) return viaApollo(request, reply, operation);
    if (target !== undefined) remembered.remember(target, { operation, publicKey: keys.publicKey, outcome: resolved.outcome });
    return fromCache(responseCache, request, reply, who, operation, keys.publicKey);
  };

  /** Who is asking, or `undefined` for a refused token (Apollo reports it when it builds the context). */
  const identified = async (request: FastifyRequest): Promise<Identified<Context> | undefined> => {
    try {
      return await identify(request);
    } catch {
      return undefined;
    }
  };

  /** Answers from the response cache (near copy, shared tier), or executes once and stores. */
  const fromCache = async (responseCache: ResponseCache, request: FastifyRequest, reply: FastifyReply, who: Identified<Context>, operation: ResolvedOperation, publicKey: string) => {
    const privateKey = responseCache.privateKeyOf(publicKey, who.identity);
    const near = responseCache.nearLookup(publicKey, privateKey);
    if (near !== undefined) {
      // Measured: answering in the same tick writes each response on its own; yielding to the
      // check phase lets the writes of one event-loop turn go out together, which cut the CPU per
      // hit by a third and raised throughput by half under load (see BENCHMARKS.md).
      await new Promise((resolve) => setImmediate(resolve));
      return sendStored(request, reply, near, 'HIT', responseCache, options.cdnHeaders);
    }

    // The shared lookup is inside the flight: a request arriving while the leader stores its
    // result joins it instead of missing and executing a second time.
    const result = await responseCache.singleFlight(privateKey, async (): Promise<FlightResult> => {
      // The near copy was checked just above; only the shared tier is left to ask.
      const found = await responseCache.sharedLookup(publicKey, privateKey);
      if (found !== undefined) return fromStored(found);
      const execute = async (): Promise<FlightResult> => {
        responseCache.noteExecution();
        const context = who.context();
        const epoch = responseCache.epoch();
        const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: toApolloRequest(request, operation), context: () => Promise.resolve(context) });
        const body = Buffer.from(response.body.kind === 'complete' ? response.body.string : await collect(response.body.asyncIterator), 'utf8');
        const status = response.status ?? 200;
        const policy = context.responsePolicy;
        let stored: StoredResponse | undefined;
        if (status === 200 && policy !== undefined && policy.ttlSeconds > 0) {
          stored = await responseCache.store(policy.scope === 'PUBLIC' ? publicKey : privateKey, body, policy, epoch);
        } else {
          responseCache.noteUncacheable();
        }
        return { shareable: policy?.isQuery === true, status, headers: [...response.headers], body, stored, hit: false };
      };
      // A mutation is never shared, so no other instance should wait for it (the test is loose: a
      // query that merely mentions the word only forgoes the fleet-wide flight).
      return MAY_WRITE.test(operation.query) ? execute() : responseCache.fleetFlight(publicKey, privateKey, fromStored, execute);
    });
    if (result.stored !== undefined) return sendStored(request, reply, result.stored, result.hit ? 'HIT-SHARED' : 'MISS', responseCache, options.cdnHeaders);
    reply.code(result.status);
    for (const [name, value] of result.headers) reply.header(name, value);
    return reply.header('cache-control', 'no-store').header('x-cache', 'BYPASS').send(result.body);
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
}

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

interface FlightResult {
  /** False for a mutation's result: a concurrent identical request must run its own. */
  readonly shareable: boolean;
  readonly status: number;
  readonly headers: readonly [string, string][];
  readonly body: Buffer;
  readonly stored: StoredResponse | undefined;
  /** Answered from the shared tier (here or another instance's store) rather than executed here. */
  readonly hit: boolean;
}

const MAY_WRITE = /\b(mutation|subscription)\b/;

function fromStored(stored: StoredResponse): FlightResult {
  return { shareable: true, status: 200, headers: [], body: stored.body, stored, hit: true };
}

/** The stored bytes with Cache-Control, Age, ETag and surrogate keys; a GET with a matching If-None-Match gets 304. */
function sendStored(request: FastifyRequest, reply: FastifyReply, stored: StoredResponse, marker: string, responseCache: ResponseCache, cdnHeaders: CdnHeaders) {
  const cdn = cdnHeaders.of(stored);
  reply.headers(storedHeaders(stored, cdn)).header('age', ageOf(stored, Date.now())).header('x-cache', marker);
  // The same URL serves the playground to browsers that ask for HTML. Added to the Vary already
  // there (CORS's Origin), never in its place.
  appendVary(reply, ...cdn.vary);
  if (notModified(request.method, request.headers['if-none-match'], stored)) {
    responseCache.noteNotModified();
    return reply.code(304).send();
  }
  return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(stored.body);
}

/**
 * What Apollo runs: the resolved operation (its text, whatever the request carried instead), or,
 * without one, the request as sent. A GET stays a GET, so that Apollo still refuses a mutation
 * over GET (405, Allow: POST).
 */
function toApolloRequest(request: FastifyRequest, operation: ResolvedOperation | undefined): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = request.method.toUpperCase();
  if (operation === undefined) {
    const queryStart = request.url.indexOf('?');
    return { method, headers, search: queryStart === -1 ? '' : request.url.slice(queryStart), body: request.body };
  }
  const { query, operationName, variables, extensions } = operation;
  // Members that are absent stay absent: Apollo refuses `extensions: undefined`.
  const present = Object.entries({ operationName, variables, extensions }).filter(([, value]) => value !== undefined);
  if (method !== 'GET') return { method, headers, search: '', body: Object.fromEntries([['query', query], ...present]) };
  const search = new URLSearchParams({ query });
  for (const [name, value] of present) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  return { method, headers, search: `?${search.toString()}`, body: undefined };
}

async function collect(chunks: AsyncIterableIterator<string>): Promise<string> {
  let body = '';
  for await (const chunk of chunks) body += chunk;
  return body;
}
