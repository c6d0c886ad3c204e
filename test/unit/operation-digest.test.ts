import { OperationDigests } from '../../src/graphql/response-cache/operation-digest';

describe('the digest a response is cached under', () => {
  const digests = new OperationDigests({ maxDocuments: 100, maxTokens: 1_000 });
  const PROFILE = 'query Profile($id: Int!, $full: Boolean = false) { user(id: $id) { id displayName @include(if: $full) } }';

  it('is the same for spellings of one operation: comments, spacing, commas', () => {
    const spelled = `# the profile screen\nquery Profile( $id: Int!,\n $full: Boolean = false ) {\n  user(id: $id) { id, displayName @include(if: $full) }\n}`;
    expect(digests.digest(spelled, undefined, { id: 1 })).toBe(digests.digest(PROFILE, undefined, { id: 1 }));
  });

  it('ignores variables the operation does not declare, and the order of object keys', () => {
    const plain = digests.digest(PROFILE, undefined, { id: 1, full: true });
    expect(digests.digest(PROFILE, undefined, { full: true, id: 1, unused: 'x'.repeat(1_000) })).toBe(plain);
    const filter = 'query Find($where: SignalFilter) { signals(where: $where) { id } }';
    expect(digests.digest(filter, undefined, { where: { symbol: 'EUR_USD', status: 'ACTIVE' } })).toBe(digests.digest(filter, undefined, { where: { status: 'ACTIVE', symbol: 'EUR_USD' } }));
  });

  it('differs for different declared values, operations and documents', () => {
    const seen = new Set([
      digests.digest(PROFILE, undefined, { id: 1 }),
      digests.digest(PROFILE, undefined, { id: 2 }),
      digests.digest(PROFILE, undefined, { id: 1, full: true }),
      digests.digest(PROFILE, 'Profile', { id: 1 }),
      digests.digest('query Profile($id: Int!) { user(id: $id) { id } }', undefined, { id: 1 }),
    ]);
    expect(seen.size).toBe(5);
  });

  it('picks the named operation of a document with several, and keys only its variables', () => {
    const two = 'query A($x: Int) { user(id: $x) { id } } query B($y: Int) { user(id: $y) { id } }';
    expect(digests.digest(two, 'A', { x: 1, y: 2 })).toBe(digests.digest(two, 'A', { x: 1, y: 3 }));
    expect(digests.digest(two, 'B', { x: 1, y: 2 })).not.toBe(digests.digest(two, 'B', { x: 1, y: 3 }));
  });

  it('leaves to Apollo what it cannot key: a document that does not parse, an unknown or ambiguous operation, too many tokens', () => {
    expect(digests.digest('{ user(id: ', undefined, undefined)).toBeUndefined();
    expect(digests.digest(PROFILE, 'Other', { id: 1 })).toBeUndefined();
    expect(digests.digest('query A { me { id } } query B { me { id } }', undefined, undefined)).toBeUndefined();
    expect(digests.digest(`{ ${'a '.repeat(2_000)}}`, undefined, undefined)).toBeUndefined();
  });
});
