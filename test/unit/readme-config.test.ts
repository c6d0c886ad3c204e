import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Every variable src/config.ts reads: through `read(env, 'NAME', …)`, or directly as `env.NAME`. */
function variablesReadByConfig(): Set<string> {
  const source = readFileSync(join(root, 'src', 'config.ts'), 'utf8');
  return new Set([...source.matchAll(/read\(\s*env,\s*'([A-Z][A-Z0-9_]*)'|\benv\.([A-Z][A-Z0-9_]*)\b/g)].map((match) => (match[1] ?? match[2])!));
}

/** The names in the first column of the table under README's "## Configuration", each in backticks. */
function readmeConfigTable(): { names: Set<string>; notNames: string[] } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  const firstCells = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2) // the header and its |---| line
    .map((line) => line.split('|')[1] ?? '');
  const tokens = firstCells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!));
  return { names: new Set(tokens.filter((token) => /^[A-Z][A-Z0-9_]*$/.test(token))), notNames: tokens.filter((token) => !/^[A-Z][A-Z0-9_]*$/.test(token)) };
}

describe("README's configuration table", () => {
  const read = variablesReadByConfig();
  const table = readmeConfigTable();

  it('finds both lists (the parsers still match the files)', () => {
    expect(read.size).toBeGreaterThan(50);
    expect(read).toContain('REDIS_DB'); // read as env.REDIS_DB besides read(env, 'REDIS_DB', …)
    expect(table.names.size).toBeGreaterThan(50);
  });

  it('lists every variable src/config.ts reads', () => {
    expect({ missingFromReadme: [...read].filter((name) => !table.names.has(name)).sort() }).toEqual({ missingFromReadme: [] });
  });

  it('lists no variable src/config.ts does not read', () => {
    expect({ notReadByConfig: [...table.names].filter((name) => !read.has(name)).sort() }).toEqual({ notReadByConfig: [] });
  });

  it('spells each variable out in full in the first column (`CACHE_TTL_SHORT` / `CACHE_TTL_LONG`, not `CACHE_TTL_SHORT/LONG`)', () => {
    expect({ notVariableNames: table.notNames }).toEqual({ notVariableNames: [] });
  });
});
