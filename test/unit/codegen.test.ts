import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

import { generate, loadCodegenConfig } from '@graphql-codegen/cli';

const ROOT = join(__dirname, '..', '..');
const GENERATED_DIR = join(ROOT, 'src', 'generated');
const STALE = 'the generated client code is stale: run npm run codegen (after npm run schema:emit if the schema changed)';

interface GeneratedFile {
  readonly filename: string;
  readonly content: string;
}

describe('the committed client code (src/generated/)', () => {
  let expected: Map<string, string>;

  beforeAll(async () => {
    // The very configuration `npm run codegen` uses, run in memory: nothing is written.
    const { config } = await loadCodegenConfig({ configFilePath: join(ROOT, 'codegen.yml') });
    let outputs: GeneratedFile[];
    try {
      outputs = (await generate({ ...config, cwd: ROOT, silent: true }, false)) as GeneratedFile[];
    } catch (error) {
      // Typically an operation in schema/operations/ that the schema no longer validates.
      throw new Error(`codegen.yml no longer generates: fix schema/operations/ against the schema, then run npm run codegen. ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    expected = new Map(outputs.map((file) => [relative(ROOT, resolve(ROOT, file.filename)), file.content]));
  }, 60_000);

  it('is generated from codegen.yml into src/generated/', () => {
    expect([...expected.keys()].sort()).toEqual(expect.arrayContaining(['src/generated/graphql.ts']));
  });

  it('matches what codegen.yml produces from schema/schema.graphql and schema/operations/', () => {
    const stale = [...expected].filter(([file, content]) => !existsSync(join(ROOT, file)) || readFileSync(join(ROOT, file), 'utf8') !== content).map(([file]) => file);
    if (stale.length > 0) throw new Error(`${STALE}; differs: ${stale.join(', ')}`);
  });

  it('holds no file that codegen no longer produces', () => {
    const committed = readdirSync(GENERATED_DIR).map((name) => relative(ROOT, join(GENERATED_DIR, name)));
    const orphans = committed.filter((file) => !expected.has(file));
    if (orphans.length > 0) throw new Error(`${STALE}; and delete: ${orphans.join(', ')}`);
  });
});
