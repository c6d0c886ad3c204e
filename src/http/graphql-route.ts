import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { OperationRequest, ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import { appendVary } from './cors';

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

/**
 * The operation of a single (not batched) request that Apollo would accept as it stands, or
 * `undefined` when Apollo should decide what it is: the checks of Apollo's runHttpQuery and of its
 * persisted-query step, so that no cached answer goes to a request Apollo refuses (with 400, 405
 * or 415). An ordinary request costs no parsing beyond its GET `variables`.
 */
function readOperation(request: FastifyRequest): OperationRequest | undefined {
  let source: Record<string, unknown>;
  let variables: unknown;
  let extensions: unknown;
  if (request.method === 'POST') {
    if (!isRecord(request.body)) return undefined;
    source = request.body;
    ({ variables, extensions } = source);
  } else if (request.method === 'GET') {
    // Apollo answers 415 to a GET with any other content type.
    const contentType = request.headers['content-type'];
    if (contentType !== undefined && mimeEssence(contentType) !== 'application/json') return undefined;
    source = request.query as Record<string, unknown>;
    variables = jsonParameter(source.variables);
    extensions = jsonParameter(source.extensions);
    if (variables === INVALID || extensions === INVALID) return undefined;
  } else {
    // HEAD (Fastify's twin of the GET route): Apollo answers 405.
    return undefined;
  }
  // A GET parameter given twice arrives as an array, which these refuse, as Apollo does.
  const { query, operationName } = source;
  if (typeof query !== 'string' || query === '') return undefined;
  if (operationName !== undefined && operationName !== null && (typeof operationName !== 'string' || operationName === '')) return undefined;
  if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
  if (extensions !== undefined && extensions !== null && (!isRecord(extensions) || !persistedQueryHolds(extensions.persistedQuery, query))) return undefined;
  return { query, operationName: operationName ?? undefined, variables: variables ?? undefined };
}

const INVALID = Symbol('invalid');

/** A GET parameter holding JSON: absent, the object it encodes, or INVALID (given twice, not JSON, or not an object: Apollo answers 400). */
function jsonParameter(value: unknown): Record<string, unknown> | undefined | typeof INVALID {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return INVALID;
  try {
    const parsed = JSON.parse(value) as unknown;
    return isRecord(parsed) ? parsed : INVALID;
  } catch {
    return INVALID;
  }
}

/**
 * Apollo's automatic persisted queries, when the request names one along with its text: the
 * version must be 1 and the hash the SHA-256 of the text, or Apollo answers 400 (a hash hijacked
 * to another text). Hashed only when the extension is there.
 */
function persistedQueryHolds(persistedQuery: unknown, query: string): boolean {
  // Apollo ignores a falsy one.
  if (!persistedQuery) return true;
  const { version, sha256Hash } = persistedQuery as { version?: unknown; sha256Hash?: unknown };
  return version === 1 && typeof sha256Hash === 'string' && sha256Hash === createHash('sha256').update(query).digest('hex');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** Type and subtype of a Content-Type, lower case; Apollo's parser never sees a CORS-safelisted type where this does not. */
function mimeEssence(contentType: string): string {
  const end = contentType.indexOf(';');
  return (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase();
}

const NON_PREFLIGHTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Apollo's CSRF rule (preventCsrf), applied before a cached answer is given: a request counts as
 * preflighted when it sets a content type a simple form cannot, or a non-empty value for one of
 * Apollo's opt-in headers (an empty one counts as absent).
 */
function isPreflighted(request: FastifyRequest): boolean {
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && !NON_PREFLIGHTED_CONTENT_TYPES.includes(mimeEssence(contentType))) return true;
  return hasValue(request.headers['apollo-require-preflight']) || hasValue(request.headers['x-apollo-operation-name']);
}

function hasValue(header: string | string[] | undefined): boolean {
  return header !== undefined && (Array.isArray(header) ? header.join(', ') : header).length > 0;
}

/**
 * Whether the stored JSON may answer: Apollo answers 406 to an Accept that takes no JSON. Loose on
 * purpose: an Accept this does not recognise at once (any `q=0`, say) goes to Apollo, which negotiates.
 */
function acceptsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return accept === undefined || (JSON_ACCEPTED.test(accept) && !REFUSES_SOMETHING.test(accept));
}

const JSON_ACCEPTED = /(^|,)\s*(\*\/\*|application\/\*|application\/json|application\/graphql-response\+json)\s*(;|,|$)/i;
const REFUSES_SOMETHING = /;\s*q\s*=\s*0(\.0*)?\s*(,|;|$)/i;

/**
 * Deeper than this, variables are refused with 400 before anything reads them: far deeper than any
 * input type of the schema, far shallower than a stack overflow.
 */
const MAX_VARIABLES_DEPTH = 32;

const VARIABLES_TOO_DEEP = {
  errors: [{ message: `Variables are nested too deeply: at most ${MAX_VARIABLES_DEPTH} levels of objects and lists`, extensions: { code: 'BAD_USER_INPUT' } }],
};

/** POST variables as parsed, GET variables as sent (a scan of the text, no parse); anything else is Apollo's to refuse. */
function variablesTooDeep(request: FastifyRequest): boolean {
  if (request.method === 'POST') return isRecord(request.body) && nestedDeeperThan(request.body.variables, MAX_VARIABLES_DEPTH);
  const variables = (request.query as Record<string, unknown> | undefined)?.variables;
  return typeof variables === 'string' && jsonNestedDeeperThan(variables, MAX_VARIABLES_DEPTH);
}

/** Recursion bounded by `levels`, whatever the value's depth. */
function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  for (const member of Array.isArray(value) ? (value as unknown[]) : Object.values(value)) {
    if (nestedDeeperThan(member, levels - 1)) return true;
  }
  return false;
}

/** The same bound over JSON text: brackets and braces outside strings. */
function jsonNestedDeeperThan(text: string, levels: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > levels) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return false;
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
