import { GraphQLError } from 'graphql';
import pino from 'pino';

import { badInput } from '../../src/errors';
import { createErrorFormatter } from '../../src/graphql/format-error';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { format: createErrorFormatter(logger), lines };
}

const asResolverError = (original: Error) => new GraphQLError(original.message, { path: ['user'], originalError: original });

describe('error formatting', () => {
  it('masks an unexpected error and logs it whole', () => {
    const { format, lines } = capture();
    const error = asResolverError(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'));
    const formatted = format({ message: error.message, path: ['user'] }, error);
    expect(formatted).toEqual({ message: 'Internal server error', path: ['user'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(lines)).toContain('ECONNREFUSED');
  });

  it('keeps errors meant for the client', () => {
    const { format } = capture();
    const error = asResolverError(badInput('limit must be between 1 and 200'));
    const formatted = { message: 'limit must be between 1 and 200', extensions: { code: 'BAD_USER_INPUT' } };
    expect(format(formatted, error)).toBe(formatted);
  });
});
