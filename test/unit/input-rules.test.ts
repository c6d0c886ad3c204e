import { validateArgs } from '../../src/graphql/validate-args';
import { CreateSignalInput } from '../../src/signals/signal.args';
import { SIGNAL_STATUSES, statusChangeRefusal } from '../../src/signals/signal.model';
import { UpdateUserArgs, UpdateUserInput } from '../../src/users/user.args';

/** The argument rules of issue 13, without a server: what validateArgs refuses, and the status model. */
describe('validateArgs', () => {
  const signal = (fields: Partial<CreateSignalInput>) =>
    Object.assign(new CreateSignalInput(), { symbol: 'EUR_USD', timeframe: 'H1', direction: 'BUY', entryPrice: 1.08, confidence: 0.5, ...fields });
  const refusal = (value: unknown) => validateArgs(value).then(() => undefined, (error: { message: string; extensions: { code: string } }) => error);

  it.each([[Infinity], [-Infinity], [NaN]])('refuses %p in any number, decorated or not, with BAD_USER_INPUT', async (value) => {
    const error = await refusal(signal({ entryPrice: value }));
    expect(error).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringContaining('entryPrice must be a finite number') });
    expect(await refusal({ anything: { nested: [1, value] } })).toMatchObject({ message: expect.stringContaining('anything.nested must be a finite number') });
  });

  it('refuses control characters in nested text and in lists, once per field', async () => {
    const args = Object.assign(new UpdateUserArgs(), { id: 2, input: Object.assign(new UpdateUserInput(), { displayName: 'a\u0000b' }) });
    expect(await refusal(args)).toMatchObject({ message: 'Invalid argument: input.displayName must not contain control characters' });
    expect(await refusal({ symbols: ['A\tB', 'C\nD'] })).toMatchObject({ message: 'Invalid argument: symbols must not contain control characters' });
  });

  it('lets printable text through, Unicode included', async () => {
    const args = Object.assign(new UpdateUserArgs(), { id: 2, input: Object.assign(new UpdateUserInput(), { displayName: 'Zoë 李 — 🚀' }) });
    await expect(validateArgs(args)).resolves.toBeUndefined();
  });

  it('accepts prices up to 1e6 and refuses more', async () => {
    await expect(validateArgs(signal({ entryPrice: 1_000_000 }))).resolves.toBeUndefined();
    expect(await refusal(signal({ entryPrice: 1_000_000.01 }))).toMatchObject({ message: expect.stringContaining('entryPrice must be at most 1000000') });
  });
});

describe('the signal status model', () => {
  it('lets an ACTIVE signal become each final status, and nothing else change', () => {
    const allowed = SIGNAL_STATUSES.flatMap((from) => SIGNAL_STATUSES.filter((to) => statusChangeRefusal(from, to) === null).map((to) => `${from}->${to}`));
    expect(allowed).toEqual(['ACTIVE->EXECUTED', 'ACTIVE->EXPIRED', 'ACTIVE->CANCELLED']);
  });
});
