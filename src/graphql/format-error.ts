import { unwrapResolverError } from '@apollo/server/errors';
import { type GraphQLFormattedError, GraphQLError } from 'graphql';

import type { Logger } from '../logger';

/**
 * Errors the client may read are GraphQLErrors: ours (PublicError), graphql-js's own (syntax,
 * validation) and Apollo's (bad request). Anything else thrown by a resolver is a bug or an
 * outage whose message may leak internals: it is logged whole and masked.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError) {
      if (original.originalError !== undefined && !(original.originalError instanceof GraphQLError)) {
        logger.warn({ err: original.originalError, code: formatted.extensions?.code, path: formatted.path }, original.message);
      }
      return formatted;
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in resolver');
    return {
      message: 'Internal server error',
      ...(formatted.locations === undefined ? {} : { locations: formatted.locations }),
      ...(formatted.path === undefined ? {} : { path: formatted.path }),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
