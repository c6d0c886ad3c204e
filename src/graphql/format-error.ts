import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { type GraphQLFormattedError, GraphQLError } from 'graphql';

import type { Logger } from '../logger';
import { activeTraceIds } from '../tracing/active-trace';

/**
 * Errors the client may read are GraphQLErrors: ours (PublicError), graphql-js's own (syntax,
 * validation, limits) and Apollo's (bad request). Anything else thrown by a resolver is a bug or
 * an outage whose message may leak internals: it is masked here and logged by maskedErrorsPlugin.
 */
export function createErrorFormatter() {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (unwrapResolverError(error) instanceof GraphQLError) return formatted;
    return {
      message: 'Internal server error',
      ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
      ...(formatted.path === undefined ? {} : { path: formatted.path }),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/**
 * Logs every error whole, with the request id, and gives masked errors that id, so that a
 * client's report ("INTERNAL_SERVER_ERROR, requestId 3f2a…") leads straight to the log line;
 * inside a trace (tracing on), also its `traceId`, which leads to the trace.
 */
export function maskedErrorsPlugin<Context extends BaseContext & { readonly requestId?: string }>(logger: Logger): ApolloServerPlugin<Context> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (!(original instanceof GraphQLError)) {
              logger.error({ err: original, requestId: contextValue.requestId, path: error.path }, 'unexpected error in resolver');
            } else if (original.originalError !== undefined && !(original.originalError instanceof GraphQLError)) {
              logger.warn({ err: original.originalError, requestId: contextValue.requestId, code: original.extensions.code, path: error.path }, original.message);
            }
          }
          return Promise.resolve();
        },
        willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single' || contextValue.requestId === undefined) return Promise.resolve();
          const { errors } = response.body.singleResult;
          if (errors === undefined) return Promise.resolve();
          const traceId = activeTraceIds()?.traceId;
          const ids = traceId === undefined ? { requestId: contextValue.requestId } : { requestId: contextValue.requestId, traceId };
          response.body.singleResult.errors = errors.map((error) => (error.extensions?.code === 'INTERNAL_SERVER_ERROR' ? { ...error, extensions: { ...error.extensions, ...ids } } : error));
          return Promise.resolve();
        },
      });
    },
  };
}
