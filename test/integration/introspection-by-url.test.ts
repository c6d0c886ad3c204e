import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generate } from '@graphql-codegen/cli';
import { getIntrospectionQuery } from 'graphql';

import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

interface GeneratedFile {
  readonly filename: string;
  readonly content: string;
}

/**
 * A tool that reads the schema by URL, as GraphiQL, IDE plugins, Postman and `rover graph
 * introspect` do: GraphQL Code Generator given `schema: <gateway>/graphql` sends the standard
 * introspection query over HTTP and prints the schema it answers. Run in memory; nothing is written.
 */
describe('introspecting a running gateway by URL (introspection on, as outside production)', () => {
  let gateway: TestGateway;
  let scratch: string;

  beforeAll(async () => {
    gateway = await startTestGateway();
    // codegen's working directory: empty, outside the repository, and checked to stay empty.
    scratch = mkdtempSync(join(tmpdir(), 'introspection-by-url-'));
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }, 30_000);

  it('lets GraphQL Code Generator print the schema from <gateway>/graphql', async () => {
    const outputs = (await generate(
      {
        schema: `${gateway.url}/graphql`,
        generates: { 'introspected.graphql': { plugins: ['schema-ast'] } },
        cwd: scratch,
        // The plugin comes from this project's node_modules, not from the scratch directory.
        pluginLoader: (name: string) => import(name),
        silent: true,
        errorsOnly: true,
      },
      false,
    )) as GeneratedFile[];

    expect(outputs.map((output) => output.filename)).toEqual(['introspected.graphql']);
    const printed = outputs[0]!.content;
    expect(printed).toMatch(/^type Query \{$/m);
    for (const field of ['user(id: Int!): User', 'signals(', 'latestSignals(', 'candles(', 'cacheMetrics: CacheMetrics!']) expect(printed).toContain(field);
    expect(printed).toMatch(/^type Mutation \{$/m);
    expect(printed).toMatch(/^type Signal \{$/m);
    // Descriptions came along (the introspection asked for them): the schema is browsable as documented.
    expect(printed).toContain('The user of the session token; null without one');
    expect(readdirSync(scratch)).toEqual([]);
  }, 60_000);

  it('answers the standard introspection query with every option over HTTP', async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    });
    const result = await gateway.graphql<{ __schema: { queryType: { name: string }; types: { name: string }[] } }>(query);
    expect(result.errors).toBeUndefined();
    expect(result.status).toBe(200);
    expect(result.data?.__schema.queryType.name).toBe('Query');
    expect(result.data?.__schema.types.map((type) => type.name)).toEqual(expect.arrayContaining(['Query', 'User', 'Signal']));
  }, 30_000);

  it('still refuses introspection nested to no purpose, and data queries keep their own limits', async () => {
    const lists = await gateway.graphql('{ __schema { types { fields { args { type { fields { name } } } } } } }');
    expect(lists.status).toBe(400);
    expect(lists.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'introspectionLists' });

    const mixed = await gateway.graphql(getIntrospectionQuery().replace('__schema {', 'me { id } __schema {'));
    expect(mixed.status).toBe(400);
    expect(mixed.errors?.[0]?.message).toBe('Query is too deep: 10 levels, at most 8');
  }, 30_000);
});

describe('introspecting by URL with introspection off (as in production)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway({ GRAPHQL_INTROSPECTION: 'false' });
  }, 60_000);

  afterAll(() => gateway?.close(), 30_000);

  it('refuses the standard introspection query as before', async () => {
    const result = await gateway.graphql(getIntrospectionQuery());
    expect(result.status).toBe(400);
    expect(result.errors?.map((error) => error.message)).toEqual(expect.arrayContaining(['Query is too deep: 10 levels, at most 8']));
  }, 30_000);
});
