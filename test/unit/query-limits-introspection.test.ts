import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { buildSchema, getIntrospectionQuery, type GraphQLError, type IntrospectionOptions, parse, specifiedRules, validate } from 'graphql';

import { loadConfig } from '../../src/config';
import { INTROSPECTION_LIMITS, queryLimitsRule } from '../../src/graphql/query-limits';

/**
 * Introspection under the query limits: the standard introspection query that GraphiQL, IDE
 * plugins, Postman, rover and codegen send first passes with the gateway's default limits, while
 * introspection nested to no purpose, and data queries dressed up with introspection, do not.
 */

const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8'));
const development = loadConfig({ NODE_ENV: 'development' }).graphql;
const production = loadConfig({ NODE_ENV: 'production' }).graphql;

/** Every option graphql 16 has, on (typeDepth at its default, 9). */
const EVERY_OPTION: Required<Omit<IntrospectionOptions, 'typeDepth'>> = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  experimentalDirectiveDeprecation: true,
  oneOf: true,
};

/** What the limits rule alone reports (other rules may object to fields a schema lacks). */
function limitErrors(query: string, limits = development): readonly GraphQLError[] {
  return validate(schema, parse(query), [queryLimitsRule(limits)]);
}

function allErrors(query: string, limits = development): string[] {
  return validate(schema, parse(query), [...specifiedRules, queryLimitsRule(limits)]).map((error) => error.message);
}

const fieldsCycle = (levels: number): string => {
  let selection = 'name';
  for (let level = 0; level < levels; level += 1) selection = `fields { name type { ${selection} } }`;
  return `{ __type(name: "Query") { ${selection} } }`;
};

describe('the query limits with introspection enabled (outside production)', () => {
  it('uses the defaults a development gateway runs with', () => {
    expect(development).toMatchObject({ introspection: true, maxDepth: 8 });
    expect(production.introspection).toBe(false);
  });

  it.each([
    ['no option', {}],
    ['every option', EVERY_OPTION],
    ['every option but experimental directive deprecation (which this graphql-js does not serve)', { ...EVERY_OPTION, experimentalDirectiveDeprecation: false }],
    ['GraphiQL 4 (input value deprecation, schema description)', { inputValueDeprecation: true, schemaDescription: true }],
    ['typeDepth 14, the deepest type reference the bound leaves room for', { ...EVERY_OPTION, typeDepth: 14 }],
  ] satisfies [string, IntrospectionOptions][])('lets getIntrospectionQuery() with %s through the limits', (_name, options) => {
    expect(limitErrors(getIntrospectionQuery(options))).toEqual([]);
  });

  it('passes every rule with the options this schema supports, so a tool gets the whole schema', () => {
    expect(allErrors(getIntrospectionQuery({ ...EVERY_OPTION, experimentalDirectiveDeprecation: false }))).toEqual([]);
  });

  it('lets an introspection that starts from a fragment or with __typename through', () => {
    const query = `query Open { __typename ...Root } fragment Root on Query { __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } } }`;
    expect(allErrors(query)).toEqual([]);
  });

  it('refuses an absurdly deep ofType chain', () => {
    expect(allErrors(getIntrospectionQuery({ typeDepth: 15 }))).toEqual([`Introspection query is too deep: 21 levels, at most ${INTROSPECTION_LIMITS.maxDepth}`]);
    expect(allErrors(getIntrospectionQuery({ typeDepth: 30 }))).toEqual([`Introspection query is too deep: 22 levels, at most ${INTROSPECTION_LIMITS.maxDepth}`]);
    const [error] = limitErrors(getIntrospectionQuery({ typeDepth: 30 }));
    expect(error?.extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'depth' });
  });

  it('allows three nested lists of any kind (types, fields, args: the standard query) and refuses a fourth', () => {
    expect(allErrors('{ __schema { types { fields { args { type { ofType { name } } } } } } }')).toEqual([]);
    // Only two of graphql-js's four cycle fields: its MaxIntrospectionDepthRule lets this through.
    const fourLists = '{ __schema { types { fields { args { type { fields { name } } } } } } }';
    expect(allErrors(fourLists)).toEqual(['Introspection query nests too many lists (types, fields, args, interfaces…): 4, at most 3']);
    const [error] = limitErrors(fourLists);
    expect(error?.extensions).toEqual({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'introspectionLists' });
  });

  it('refuses a fields { type { fields … cycle (graphql-js refuses the third nested fields, this rule the fourth list)', () => {
    expect(allErrors(fieldsCycle(2))).toEqual([]);
    expect(allErrors(fieldsCycle(3))).toEqual(['Maximum introspection depth exceeded']);
    // A long cycle is refused by both, this rule stopping its walk at the fourth list.
    expect(allErrors(fieldsCycle(9)).sort()).toEqual(['Introspection query nests too many lists (types, fields, args, interfaces…): 4, at most 3', 'Maximum introspection depth exceeded']);
  });

  it('counts every list field of the introspection types, through fragments', () => {
    const query = `{ __schema { types { ...T } } } fragment T on __Type { interfaces { possibleTypes { inputFields { name } } } }`;
    expect(limitErrors(query).map((error) => error.message)).toEqual(['Introspection query nests too many lists (types, fields, args, interfaces…): 4, at most 3']);
  });

  it('bounds aliases and the number of fields of an introspection', () => {
    const aliases = Array.from({ length: INTROSPECTION_LIMITS.maxAliases + 1 }, (_, index) => `t${index}: __type(name: "Query") { name }`).join(' ');
    expect(limitErrors(`{ ${aliases} }`).map((error) => error.extensions.limit)).toEqual(['aliases']);

    // A fragment bomb: 2^12 copies of a few fields, refused after bounded work.
    const fragments = Array.from({ length: 12 }, (_, index) => `fragment F${index} on __Type { ...F${index + 1} ...F${index + 1} }`).join(' ');
    const bomb = `{ __type(name: "Query") { ...F0 } } ${fragments} fragment F12 on __Type { name kind description }`;
    expect(limitErrors(bomb).map((error) => error.message)).toEqual([`Introspection query is too costly: more than ${INTROSPECTION_LIMITS.maxCost} (one per field, times the page sizes above it)`]);
  });

  it('tells an introspection from a data query in linear time, even through a fragment bomb', () => {
    // 2^40 paths to __typename if every spread were followed.
    const fragments = Array.from({ length: 40 }, (_, index) => `fragment R${index} on Query { ...R${index + 1} ...R${index + 1} }`).join(' ');
    const started = Date.now();
    const errors = limitErrors(`{ ...R0 } ${fragments} fragment R40 on Query { __typename }`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(errors.map((error) => error.message)).toEqual([`Introspection query is too costly: more than ${INTROSPECTION_LIMITS.maxCost} (one per field, times the page sizes above it)`]);
  });

  it('keeps the normal limits for an operation that mixes introspection and data fields', () => {
    const mixed = getIntrospectionQuery().replace('__schema {', 'user(id: 1) { id } __schema {');
    expect(limitErrors(mixed).map((error) => error.message)).toEqual(['Query is too deep: 10 levels, at most 8']);
    // Also when the data field hides in a fragment.
    const hidden = `query { ...Data __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } fragment Data on Query { user(id: 1) { id } }`;
    expect(limitErrors(hidden).map((error) => error.extensions.limit)).toEqual(['depth']);
  });

  it('keeps the normal limits for the data operation of a document that also holds an introspection', () => {
    const depthBomb = `query Data { user(id: 1) { ${'signals { user { '.repeat(5)}id${' } }'.repeat(5)} } }`;
    const errors = limitErrors(`${getIntrospectionQuery()} ${depthBomb}`);
    expect(errors.map((error) => error.message)).toEqual([expect.stringMatching(/^Query is too deep: \d+ levels, at most 8$/)]);
  });
});

describe('the query limits with introspection disabled (production)', () => {
  it('applies the normal limits to introspection as before', () => {
    expect(limitErrors(getIntrospectionQuery(), production).map((error) => error.message)).toEqual(['Query is too deep: 10 levels, at most 8']);
    expect(limitErrors(getIntrospectionQuery({ typeDepth: 3 }), production).map((error) => error.message)).toEqual(['Query is too deep: 9 levels, at most 8']);
    expect(limitErrors('{ __schema { types { fields { args { type { ofType { name } } } } } } }', production)).toEqual([]);
    expect(limitErrors(fieldsCycle(4), production).map((error) => error.message)).toEqual(['Query is too deep: 10 levels, at most 8']);
  });
});
