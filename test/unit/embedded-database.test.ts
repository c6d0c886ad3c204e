import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { loadConfig } from '../../src/config';
import { lockDataDir } from '../../src/db/data-dir-lock';

describe('where the embedded database lives (PGLITE_DATA_DIR)', () => {
  it('is kept on disk for `npm start` (development), and in memory for tests and production', () => {
    expect(loadConfig({}).database.embeddedDataDir).toBe('.data/pglite');
    expect(loadConfig({ NODE_ENV: 'test' }).database.embeddedDataDir).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production' }).database.embeddedDataDir).toBeUndefined();
  });

  it('is in memory when set to memory://, and where it says otherwise', () => {
    expect(loadConfig({ PGLITE_DATA_DIR: 'memory://' }).database.embeddedDataDir).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'test', PGLITE_DATA_DIR: '/var/lib/gateway/pglite' }).database.embeddedDataDir).toBe('/var/lib/gateway/pglite');
  });
});

describe('the lock on an embedded database directory', () => {
  let root: string;
  let dataDir: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pglite-lock-'));
    dataDir = join(root, 'nested', 'pglite');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is a file beside the directory (its parents created) naming this process, gone when released', () => {
    const release = lockDataDir(dataDir);
    expect(readFileSync(`${dataDir}.lock`, 'utf8')).toBe(String(process.pid));
    release();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('refuses a second holder in this process, naming the directory', () => {
    const release = lockDataDir(dataDir);
    try {
      expect(() => lockDataDir(dataDir)).toThrow(`the embedded database in ${dataDir} is in use by process ${process.pid}`);
    } finally {
      release();
    }
    lockDataDir(dataDir)();
  });

  it('refuses while another live process holds it', async () => {
    const other = spawn('sleep', ['30']);
    try {
      mkdirSync(dirname(dataDir), { recursive: true });
      writeFileSync(`${dataDir}.lock`, String(other.pid));
      expect(() => lockDataDir(dataDir)).toThrow(`in use by process ${other.pid}`);
    } finally {
      const exited = new Promise((resolve) => other.once('exit', resolve));
      other.kill();
      await exited;
    }
  });

  it('takes over a lock left by a process that has died, or by an earlier life of this pid', async () => {
    const dead = spawn('true');
    await new Promise((resolve) => dead.once('exit', resolve));
    mkdirSync(dirname(dataDir), { recursive: true });
    writeFileSync(`${dataDir}.lock`, String(dead.pid));
    const release = lockDataDir(dataDir);
    expect(readFileSync(`${dataDir}.lock`, 'utf8')).toBe(String(process.pid));
    release();

    // A container restarted in place runs as the same pid (1) and finds its own pid in the old lock.
    writeFileSync(`${dataDir}.lock`, String(process.pid));
    lockDataDir(dataDir)();
  });
});
