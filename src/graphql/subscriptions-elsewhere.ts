import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, OperationTypeNode } from 'graphql';

/** Where subscriptions are served: graphql-ws upgrades and SSE streams; `undefined` with SUBSCRIPTIONS_ENABLED=false. */
export interface LiveEndpoints {
  readonly webSocketPath: string;
  readonly ssePath: string;
}

/**
 * Refuses a subscription sent to the query endpoint (a POST; Apollo itself answers a GET with 405)
 * with 400 and where to send it, before anything runs. Apollo Client's HttpLink without a split
 * link sends one so (`Accept: multipart/mixed;subscriptionSpec=1.0`); Apollo Server 5 would
 * execute it once like a query, whose subscription resolver fails: a 200 "Internal server error"
 * and an error log line for a client's mistake.
 */
export function subscriptionsElsewherePlugin<Context extends BaseContext>(live: LiveEndpoints | undefined): ApolloServerPlugin<Context> {
  const message =
    live === undefined
      ? 'Subscriptions are not served by this gateway (SUBSCRIPTIONS_ENABLED=false)'
      : `Subscriptions are not served over HTTP POST: use graphql-ws (WebSocket) at ${live.webSocketPath}, or SSE (graphql-sse) at ${live.ssePath}`;
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ operation }) {
          if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return Promise.resolve();
          return Promise.reject(new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } }));
        },
      });
    },
  };
}
