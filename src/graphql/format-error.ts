import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { type GraphQLFormattedError, GraphQLError } from 'graphql';

import { ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { activeTraceIds } from '../tracing/active-trace';

/**
 * Errors the client may read are GraphQLErrors: ours (PublicError), graphql-js's own (syntax,
 * validation, limits) and Apollo's (bad request). Anything else thrown by a resolver is a bug or
 * an outage whose message may leak internals: it is masked here and logged by maskedErrorsPlugin.
 */
export function createErrorFormatter() {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    if (unwrapped instanceof GraphQLError && !wrapsUnexpected(unwrapped)) return formatted;
    return {
      message: 'Internal server error',
      ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
      ...(formatted.path === undefined ? {} : { path: formatted.path }),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/**
 * Apollo's own wrapping of a thrown non-GraphQL error outside execution ("Context creation
 * failed: <its message>"): no code of its own, so it says only what the cause said. Errors that
 * are meant for the client and keep a cause (DATABASE_UNAVAILABLE, a scalar's BAD_USER_INPUT)
 * carry a code.
 */
function wrapsUnexpected(error: GraphQLError): boolean {
  return error.path === undefined && error.originalError !== undefined && !(error.originalError instanceof GraphQLError) && error.extensions.code === undefined;
}

/**
 * What a request is answered when its context could not be built (its session looked up), which
 * Apollo reports before any plugin sees the request: a public error as it is, but
 * DATABASE_UNAVAILABLE with 503 (nothing ran; a retry will help) and logged as a warning; anything
 * else masked as INTERNAL_SERVER_ERROR with the request id, and logged whole as an error.
 */
export function contextCreationError(error: unknown, requestId: string, logger: Logger): GraphQLError {
  if (error instanceof GraphQLError && !wrapsUnexpected(error)) {
    if (error.extensions.code !== ErrorCode.DatabaseUnavailable) return error;
    logger.warn({ err: error.originalError ?? error, requestId, code: error.extensions.code }, error.message);
    return new GraphQLError(error.message, { originalError: error.originalError, extensions: { ...error.extensions, http: { status: 503 } } });
  }
  logger.error({ err: error, requestId }, 'unexpected error while building the request context (authentication)');
  return new GraphQLError('Internal server error', { extensions: { code: ErrorCode.InternalServerError, ...idsOf(requestId) } });
}

/** What a masked error says to find its log line, and inside a trace (tracing on) the trace. */
function idsOf(requestId: string): { requestId: string; traceId?: string } {
  const traceId = activeTraceIds()?.traceId;
  return traceId === undefined ? { requestId } : { requestId, traceId };
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
          const ids = idsOf(contextValue.requestId);
          response.body.singleResult.errors = errors.map((error) => (error.extensions?.code === 'INTERNAL_SERVER_ERROR' ? { ...error, extensions: { ...error.extensions, ...ids } } : error));
          return Promise.resolve();
        },
      });
    },
  };
}
