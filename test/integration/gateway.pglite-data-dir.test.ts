import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BOB, startTestGateway } from '../helpers/test-gateway';

/** `npm start` keeps its embedded database in a directory (PGLITE_DATA_DIR), so that a restart neither creates nor seeds it again. */
describe('the embedded database kept in a directory', () => {
  let root: string;
  let dataDir: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pglite-data-'));
    dataDir = join(root, 'pglite');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('keeps writes and the demo data across a restart, and is held by one process at a time', async () => {
    const first = await startTestGateway({ PGLITE_DATA_DIR: dataDir });
    try {
      const renamed = await first.graphql('mutation { updateUser(id: 2, input: { displayName: "Bob, kept" }) { displayName } }', undefined, BOB);
      expect(renamed.errors).toBeUndefined();
      await expect(startTestGateway({ PGLITE_DATA_DIR: dataDir })).rejects.toThrow(`the embedded database in ${dataDir} is in use`);
    } finally {
      await first.close();
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);

    const second = await startTestGateway({ PGLITE_DATA_DIR: dataDir });
    try {
      expect((await second.graphql('{ user(id: 2) { displayName } }')).data).toEqual({ user: { displayName: 'Bob, kept' } });
      const [counts] = await second.gateway.db.query<{ users: number; signals: number }>(
        'test.counts',
        'select (select count(*)::int from users) as users, (select count(*)::int from trading_signals) as signals',
      );
      expect(counts).toEqual({ users: 1_000, signals: 20_000 });
    } finally {
      await second.close();
    }
  }, 90_000);
});
