import { Readable } from 'node:stream';

import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import { appendVary } from './cors';
import { acceptsJson, isPreflighted, readOperation, VARIABLES_TOO_DEEP, variablesTooDeep } from './graphql-request';

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
  /** Absent: every request is executed. */
  readonly responseCache?: ResponseCache | undefined;
  /** A browser asking for HTML gets the playground instead of a GraphQL answer. */
  readonly playground?: { wants(request: FastifyRequest): boolean; html(): string; readonly headers: Readonly<Record<string, string>> } | undefined;
}

/**
 * Serves GraphQL at `path`, with the response-cache fast path in front of Apollo: a hit is
 * answered from the stored bytes without parsing, validating or executing anything. Written by
 * hand rather than through an integration package for exactly that reason.
 */
export function registerGraphqlRoute<Context extends PolicyContext>(http: FastifyInstance, options: GraphqlRouteOptions<Context>): void {
  const { apollo, identify, responseCache, playground } = options;

  const viaApollo = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: toApolloRequest(request),
      context: async () => (await identify(request)).context(),
    });
    reply.code(response.status ?? 200);
    for (const [name, value] of response.headers) reply.header(name, value);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    if (playground !== undefined && request.method === 'GET' && playground.wants(request)) {
      return reply.headers(playground.headers).send(playground.html());
    }
    // Before anything walks them: whatever does so recursively (JSON.stringify, a cache key,
    // graphql's coercion) would overflow the stack on variables nested thousands deep.
    if (variablesTooDeep(request)) return reply.code(400).send(VARIABLES_TOO_DEEP);
    const operation = responseCache === undefined ? undefined : readOperation(request);
    if (responseCache === undefined || operation === undefined || !isPreflighted(request) || !acceptsJson(request)) return viaApollo(request, reply);
    let who: Identified<Context>;
    try {
      who = await identify(request);
    } catch {
      return viaApollo(request, reply);
    }

    const keys = responseCache.keysFor(operation, who.identity);
    if (keys === undefined) return viaApollo(request, reply);
    const { publicKey, privateKey } = keys;
    const near = responseCache.nearLookup(publicKey, privateKey);
    if (near !== undefined) {
      // Measured: answering in the same tick writes each response on its own; yielding to the
      // check phase lets the writes of one event-loop turn go out together, which cut the CPU per
      // hit by a third and raised throughput by half under load (see BENCHMARKS.md).
      await new Promise((resolve) => setImmediate(resolve));
      return sendStored(request, reply, near, 'HIT', responseCache);
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
        const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: toApolloRequest(request), context: () => Promise.resolve(context) });
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
    if (result.stored !== undefined) return sendStored(request, reply, result.stored, result.hit ? 'HIT-SHARED' : 'MISS', responseCache);
    reply.code(result.status);
    for (const [name, value] of result.headers) reply.header(name, value);
    return reply.header('cache-control', 'no-store').header('x-cache', 'BYPASS').send(result.body);
  };

  http.get(options.path, handler);
  http.post(options.path, handler);
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

/** The stored bytes with Cache-Control, Age and ETag; a GET with a matching If-None-Match gets 304. */
function sendStored(request: FastifyRequest, reply: FastifyReply, stored: StoredResponse, marker: string, responseCache: ResponseCache) {
  const ageSeconds = Math.max(0, Math.floor((Date.now() - stored.storedAtMs) / 1000));
  const isPrivate = stored.scope === 'PRIVATE';
  reply.headers({
    'cache-control': `${isPrivate ? 'private' : 'public'}, max-age=${Math.max(0, stored.maxAgeSeconds - ageSeconds)}`,
    age: String(ageSeconds),
    etag: stored.etag,
    'x-cache': marker,
  });
  // The same URL serves the playground to browsers that ask for HTML. Added to the Vary already
  // there (CORS's Origin), never in its place.
  if (isPrivate) appendVary(reply, 'accept', 'authorization');
  else appendVary(reply, 'accept');
  if (request.method === 'GET' && request.headers['if-none-match'] === stored.etag) {
    responseCache.noteNotModified();
    return reply.code(304).send();
  }
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(stored.body);
}

function toApolloRequest(request: FastifyRequest): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const queryStart = request.url.indexOf('?');
  return { method: request.method.toUpperCase(), headers, search: queryStart === -1 ? '' : request.url.slice(queryStart), body: request.body };
}

async function collect(chunks: AsyncIterableIterator<string>): Promise<string> {
  let body = '';
  for await (const chunk of chunks) body += chunk;
  return body;
}
