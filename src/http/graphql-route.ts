import { Readable } from 'node:stream';

import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Serves an Apollo Server at `path` on Fastify. Written by hand rather than through an
 * integration package: it is twenty lines, and the response-cache fast path needs to sit in
 * front of Apollo on this very route.
 */
export function registerGraphqlRoute<Context extends BaseContext>(
  http: FastifyInstance,
  path: string,
  apollo: ApolloServer<Context>,
  createContext: (request: FastifyRequest) => Promise<Context>,
): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const queryStart = request.url.indexOf('?');
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: request.method.toUpperCase(),
      headers,
      search: queryStart === -1 ? '' : request.url.slice(queryStart),
      body: request.body,
    };
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: () => createContext(request) });
    reply.code(response.status ?? 200);
    for (const [name, value] of response.headers) reply.header(name, value);
    if (response.body.kind === 'complete') return reply.send(response.body.string);
    return reply.send(Readable.from(response.body.asyncIterator));
  };
  http.get(path, handler);
  http.post(path, handler);
}
