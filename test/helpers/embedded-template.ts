import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A test run's embedded databases start from a copy of one made once: creating a PGlite database
 * and seeding it costs about 5 s of CPU, opening a copy of one about 1 s, and a run starts some
 * forty gateways on two cores. The copy is what the gateway itself leaves in PGLITE_DATA_DIR
 * after its first start (migrated and seeded by this run's code), so what a test sees is the
 * same demo data; creating one afresh is still what the embedded-database suites do, as they ask
 * for it (memory://, or a directory of their own).
 *
 * `globalSetup` (jest.config.js) makes an empty folder per run and names it in this variable;
 * without it (a runner that skips that set-up) gateways create their database as before.
 */
const ROOT_VARIABLE = 'TEST_PGLITE_TEMPLATE_ROOT';

/** Jest's globalSetup: a folder for this run's template and copies, named to the workers. */
export function createTemplateRoot(): void {
  process.env[ROOT_VARIABLE] = mkdtempSync(join(tmpdir(), 'gateway-test-pglite-'));
}

/** Jest's globalTeardown: the template and any copy a test left behind. */
export function removeTemplateRoot(): void {
  const root = process.env[ROOT_VARIABLE];
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
}

export interface DatabaseCopy {
  readonly dataDir: string;
  remove(): void;
}

/**
 * A private copy of the run's seeded database, or undefined while there is none yet: the first
 * caller makes the template with `make` (a gateway started on that directory and closed), and
 * callers meanwhile in other workers go on as before rather than wait for it.
 */
export async function copyOfTemplate(make: (dataDir: string) => Promise<void>): Promise<DatabaseCopy | undefined> {
  const root = process.env[ROOT_VARIABLE];
  if (root === undefined || !existsSync(root)) return undefined;
  const template = join(root, 'template');
  if (!existsSync(template)) {
    try {
      mkdirSync(join(root, 'claimed')); // one maker per run, across workers
    } catch {
      return undefined;
    }
    const making = join(root, 'making');
    await make(making);
    renameSync(making, template); // whole or absent: a reader never sees one half copied
  }
  // Its own folder, for the lock file the gateway puts beside its directory. cp(1): a fifth of fs.cpSync's time here.
  const folder = mkdtempSync(join(root, 'copy-'));
  const dataDir = join(folder, 'pglite');
  execFileSync('cp', ['-R', template, dataDir]);
  return { dataDir, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
