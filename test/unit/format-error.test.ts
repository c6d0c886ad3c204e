import { GraphQLError } from 'graphql';

import { badInput, databaseUnavailable } from '../../src/errors';
import { createErrorFormatter } from '../../src/graphql/format-error';

const asResolverError = (original: Error) => new GraphQLError(original.message, { path: ['user'], originalError: original });

describe('error formatting', () => {
  const format = createErrorFormatter();

  it('masks an unexpected error', () => {
    const error = asResolverError(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'));
    expect(format({ message: error.message, path: ['user'] }, error)).toEqual({ message: 'Internal server error', path: ['user'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it("masks Apollo's wrapping of an unexpected error thrown outside execution (context creation, a plugin)", () => {
    const error = new GraphQLError('Context creation failed: permission denied for table user_sessions', { originalError: new Error('permission denied for table user_sessions') });
    expect(format({ message: error.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error)).toEqual({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('keeps a public error that keeps its cause', () => {
    const error = databaseUnavailable(new Error('connect ECONNREFUSED 10.0.0.7:5432'));
    const formatted = { message: error.message, extensions: { code: 'DATABASE_UNAVAILABLE', retryable: true } };
    expect(format(formatted, error)).toBe(formatted);
  });

  it('keeps errors meant for the client', () => {
    const error = asResolverError(badInput('limit must be between 1 and 200'));
    const formatted = { message: 'limit must be between 1 and 200', extensions: { code: 'BAD_USER_INPUT' } };
    expect(format(formatted, error)).toBe(formatted);
  });
});
