import { GraphQLError } from 'graphql';

/**
 * The error vocabulary of the gateway. Resolvers throw these; anything else that reaches the
 * GraphQL layer is unexpected and is masked as INTERNAL_SERVER_ERROR (see graphql/format-error.ts).
 */
export enum ErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  NotFound = 'NOT_FOUND',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  UpstreamUnavailable = 'UPSTREAM_UNAVAILABLE',
  DatabaseUnavailable = 'DATABASE_UNAVAILABLE',
  /** A viewer's budget of query cost is spent (HTTP 429 before anything runs; see http/rate-limit-gate.ts). */
  RateLimited = 'RATE_LIMITED',
  InternalServerError = 'INTERNAL_SERVER_ERROR',
}

const httpStatus: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.Unauthenticated]: 401,
};

/** An error whose message is safe to show to the client. */
export class PublicError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const status = httpStatus[code];
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      extensions: { code, ...options.details, ...(status === undefined ? {} : { http: { status } }) },
    });
    this.name = 'PublicError';
  }
}

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new PublicError(ErrorCode.BadUserInput, message, details === undefined ? {} : { details });
export const notFound = (what: string) => new PublicError(ErrorCode.NotFound, `${what} not found`);
export const unauthenticated = (message = 'Authentication required') => new PublicError(ErrorCode.Unauthenticated, message);
export const forbidden = (message = 'Not allowed') => new PublicError(ErrorCode.Forbidden, message);

/**
 * The database cannot be reached (refused, dropped, shutting down or starting up). Public, not
 * masked: the client learns that a retry will help and that its request was not the problem.
 * No HTTP status of its own, on purpose: Apollo would give it to the whole response, and the
 * fields served from the cache in the same response are still good (200 with partial data).
 */
export const databaseUnavailable = (cause: unknown) =>
  new PublicError(ErrorCode.DatabaseUnavailable, 'The database is unavailable; cached data is still served, try again shortly', { cause, details: { retryable: true } });
