import { isDatabaseUnavailable } from '../../src/db/pg-driver';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

/** Which `pg` failures mean "the database cannot answer now" (DATABASE_UNAVAILABLE) rather than "this query is wrong". */
describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a server shutting down (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['a server starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['too many connections (53300)', withCode('53300')],
    ['a connection exception (class 08)', withCode('08006')],
    ['every address of a host refusing (AggregateError)', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed')],
    ['a connection dropped mid-query (pg reports it by message)', new Error('Connection terminated unexpectedly')],
    ['a connect timeout of the pool', new Error('timeout exceeded when trying to connect')],
    ['an error from another realm, read by shape', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }],
  ])('recognises %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a syntax error (42601)', withCode('42601', 'syntax error at or near "selec"')],
    ['a unique violation (23505)', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a query cancelled by statement timeout (57014)', withCode('57014', 'canceling statement due to statement timeout')],
    ['a plain error', new Error('something else')],
    ['a non-error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('leaves %s alone', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
