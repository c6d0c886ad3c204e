import type { IncomingHttpHeaders } from 'node:http';

import { type ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';

import type { Loaded } from '../cache/fleet-flight';
import type { PolicyContext } from '../graphql/response-cache/cache-policy';
import type { ResponseCache, StoredResponse } from '../graphql/response-cache/response-cache';
import type { ResolvedOperation } from './remembered-requests';

/** Who is asking, resolved once per request. */
export interface Identified<Context> {
  /** Keys the viewer's PRIVATE responses (`anonymous`, `user:42`, `admin`). */
  readonly identity: string;
  /** A fresh context for one request (loaders, policy), under that request's id. */
  context(requestId: string): Context;
}

/** What an answer from the response cache is: a stored response, or an executed one it did not keep (a mutation, an error, a `no-cache` hint). */
export type CachedAnswer =
  | { readonly kind: 'stored'; readonly stored: StoredResponse; readonly marker: 'HIT' | 'HIT-SHARED' | 'MISS' }
  | { readonly kind: 'uncached'; readonly status: number; readonly headers: readonly [string, string][]; readonly body: Buffer };

/** The part of an HTTP request that execution reads: Fastify's request and node's both have it. */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Answers an operation from the response cache, whichever HTTP layer asked (the GraphQL route or
 * the hit front): the near copy, else the shared tier, else one execution that stores what it may.
 * Concurrent identical requests share one shared-tier read and one execution (single flight), and
 * a miss runs on one instance of the fleet (fleet flight).
 */
export class CachedAnswers<Context extends PolicyContext> {
  constructor(
    private readonly apollo: ApolloServer<Context>,
    readonly responseCache: ResponseCache,
  ) {}

  /** The near copy, synchronously: the cheapest answer there is. `operation` is what was asked (a traced subclass names its span after it). */
  near(publicKey: string, identity: string, _operation: ResolvedOperation): StoredResponse | undefined {
    return this.responseCache.nearLookup(publicKey, this.responseCache.privateKeyOf(publicKey, identity));
  }

  /** After `near` found nothing: the shared tier, or an execution. */
  async answer(request: RequestHead, requestId: string, who: Identified<Context>, operation: ResolvedOperation, publicKey: string): Promise<CachedAnswer> {
    const { responseCache } = this;
    const privateKey = responseCache.privateKeyOf(publicKey, who.identity);
    // The shared lookup is inside the flight: a request arriving while the leader stores its
    // result joins it instead of missing and executing a second time.
    const result = await responseCache.singleFlight(privateKey, async (): Promise<FlightResult> => {
      const found = await responseCache.sharedLookup(publicKey, privateKey);
      if (found !== undefined) return fromStored(found);
      const execute = async (): Promise<Loaded<FlightResult>> => {
        responseCache.noteExecution();
        const context = who.context(requestId);
        const epoch = responseCache.epoch();
        const response = await this.apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: toApolloRequest(request, operation), context: () => Promise.resolve(context) });
        const body = Buffer.from(response.body.kind === 'complete' ? response.body.string : await collect(response.body.asyncIterator), 'utf8');
        const status = response.status ?? 200;
        const policy = context.responsePolicy;
        let kept: Loaded<StoredResponse> | undefined;
        if (status === 200 && policy !== undefined && policy.ttlSeconds > 0) {
          kept = responseCache.store(policy.scope === 'PUBLIC' ? publicKey : privateKey, body, policy, epoch);
        } else {
          responseCache.noteUncacheable();
        }
        const answer: CachedAnswer = kept === undefined ? { kind: 'uncached', status, headers: [...response.headers], body } : { kind: 'stored', stored: kept.value, marker: 'MISS' };
        return { value: { shareable: policy?.isQuery === true, answer }, stored: kept?.stored ?? Promise.resolve() };
      };
      // A mutation is never shared, so no other instance should wait for it (the test is loose: a
      // query that merely mentions the word only forgoes the fleet-wide flight).
      return MAY_WRITE.test(operation.query) ? (await execute()).value : responseCache.fleetFlight(publicKey, privateKey, fromStored, execute);
    });
    return result.answer;
  }
}

interface FlightResult {
  /** False for a mutation's result: a concurrent identical request must run its own. */
  readonly shareable: boolean;
  readonly answer: CachedAnswer;
}

const MAY_WRITE = /\b(mutation|subscription)\b/;

/** Read from the shared tier, here or from another instance's store. */
function fromStored(stored: StoredResponse): FlightResult {
  return { shareable: true, answer: { kind: 'stored', stored, marker: 'HIT-SHARED' } };
}

/**
 * What Apollo runs: the resolved operation (its text, whatever the request carried instead), or,
 * without one, the request as sent (`raw`). A GET stays a GET, so that Apollo still refuses a
 * mutation over GET (405, Allow: POST).
 */
export function toApolloRequest(request: RequestHead, operation: ResolvedOperation | { readonly raw: { readonly search: string; readonly body: unknown } }): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const method = (request.method ?? 'GET').toUpperCase();
  if ('raw' in operation) return { method, headers, search: operation.raw.search, body: operation.raw.body };
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
