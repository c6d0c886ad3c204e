import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { PGlite, type PGliteOptions, type Transaction } from '@electric-sql/pglite';

import { lockDataDir } from './data-dir-lock';
import type { SqlDriver } from './database';

export interface PgliteDriverOptions {
  /** Where the database is kept between starts; in memory, lost on exit, when absent. */
  readonly dataDir?: string | undefined;
  /** PostgreSQL's buffer cache, inside PGlite's WebAssembly memory (PGLITE_SHARED_BUFFERS_BYTES; default 16 MiB). */
  readonly sharedBuffersBytes?: number;
  /** How often an in-memory database's write-ahead log is measured (default 10 s); tests shorten it. */
  readonly walCheckIntervalMs?: number;
}

/** The demo data fits several times over; PostgreSQL's default (128 MiB) grew the WebAssembly memory to 189 MiB, 156 of it resident. */
const DEFAULT_SHARED_BUFFERS_BYTES = 16 * 1024 ** 2;
/**
 * In memory, write-ahead log files are memory too. PGlite runs PostgreSQL in single-user mode,
 * which has no checkpointer: without a CHECKPOINT the log only grows (16 MiB files, 96 MiB after
 * 200,000 inserted rows). So, in memory: 1 MiB files, and a checkpoint whenever the log passes
 * this size, which leaves at most this much behind.
 */
const IN_MEMORY_WAL_MAX_BYTES = 8 * 1024 ** 2;
const DEFAULT_WAL_CHECK_INTERVAL_MS = 10_000;

/**
 * Embedded PostgreSQL: the default when no DATABASE_URL is set. Creating a database takes about
 * 5 s; opening one kept in a directory, well under 1 s.
 */
export class PgliteDriver implements SqlDriver {
  private readonly walTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly db: PGlite,
    private readonly unlock: () => void,
    walBound: { readonly maxBytes: number; readonly checkIntervalMs: number } | undefined,
  ) {
    if (walBound !== undefined) {
      this.walTimer = setInterval(() => void this.checkpointPast(walBound.maxBytes), walBound.checkIntervalMs);
      this.walTimer.unref();
    }
  }

  /** Opens the database in `dataDir` (creating it when absent), for this process alone; in memory without one. */
  static async start(options: PgliteDriverOptions = {}): Promise<PgliteDriver> {
    const { dataDir } = options;
    const sharedBuffers = ['-c', `shared_buffers=${Math.floor((options.sharedBuffersBytes ?? DEFAULT_SHARED_BUFFERS_BYTES) / 1024)}kB`];
    if (dataDir === undefined) {
      const db = new PGlite({
        initDbStartParams: ['--wal-segsize=1'],
        startParams: [...PGlite.defaultStartParams, ...sharedBuffers, '-c', 'min_wal_size=2MB', '-c', `max_wal_size=${IN_MEMORY_WAL_MAX_BYTES / 1024}kB`],
      });
      await db.waitReady;
      await releaseInitdb();
      return new PgliteDriver(db, () => {}, { maxBytes: IN_MEMORY_WAL_MAX_BYTES, checkIntervalMs: options.walCheckIntervalMs ?? DEFAULT_WAL_CHECK_INTERVAL_MS });
    }
    const unlock = lockDataDir(dataDir);
    try {
      const created = !existsSync(join(dataDir, 'PG_VERSION'));
      const db = new PGlite(dataDir, { startParams: [...PGlite.defaultStartParams, ...sharedBuffers] } satisfies PGliteOptions);
      await db.waitReady;
      if (created) await releaseInitdb();
      return new PgliteDriver(db, unlock, undefined);
    } catch (error) {
      unlock();
      throw new Error(`could not open the embedded database in ${dataDir} (written by another PGlite version, or damaged?): remove that directory to start afresh`, { cause: error });
    }
  }

  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.db.query<Row>(sql, params as unknown[])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => work(new PgliteTransactionDriver(tx)));
  }

  /**
   * Bytes the database holds in this process: its WebAssembly memory (its size: pages PostgreSQL
   * has not touched yet are not resident) and the files it keeps in memory (the whole database
   * when in memory; with a directory, only PostgreSQL's own installation files).
   */
  memoryBytes(): number {
    if (this.db.closed) return 0;
    // PGlite's typings of its module name Emscripten's, which are not installed: the parts read here are typed below.
    const module = this.db.Module as unknown as EmscriptenModule;
    return module.wasmMemory.buffer.byteLength + inMemoryFileBytes(module);
  }

  /** Idempotent, as `pg`'s pool end is. */
  async close(): Promise<void> {
    clearInterval(this.walTimer);
    if (this.db.closed) return;
    try {
      await this.db.close();
    } finally {
      this.unlock();
    }
  }

  /** A failed check or checkpoint (the database closing meanwhile) is tried again on the next tick. */
  private async checkpointPast(walMaxBytes: number): Promise<void> {
    try {
      const [wal] = (await this.db.query<{ bytes: number }>('select coalesce(sum(size), 0)::float8 as bytes from pg_ls_waldir()')).rows;
      if ((wal?.bytes ?? 0) > walMaxBytes) await this.db.exec('checkpoint');
    } catch {
      // Closed or closing: nothing to bound any more.
    }
  }
}

/** What is read of PGlite's Emscripten module: its WebAssembly memory, and its file system's nodes. */
interface EmscriptenModule {
  readonly wasmMemory: { readonly buffer: ArrayBuffer };
  /** The in-memory file system type, as a mount names it. */
  readonly MEMFS: unknown;
  readonly FS: {
    lookupPath(path: string, options: object): { readonly node: FsNode };
    isDir(mode: number): boolean;
  };
}

interface FsNode {
  readonly mode: number;
  readonly mount: { readonly type: unknown };
  /** A directory's entries by name; a MEMFS file's bytes (null while empty). */
  readonly contents: unknown;
}

/**
 * The capacity of every file kept in memory (Emscripten's MEMFS: a file's bytes are a Uint8Array,
 * a directory's entries an object), walked over the nodes rather than through `FS.stat`: 1 ms for
 * the 1,700 files of a database, against 150 ms. Files on disk (a data directory) are not counted.
 */
function inMemoryFileBytes({ FS: fs, MEMFS: memfs }: EmscriptenModule): number {
  let bytes = 0;
  const visit = (node: FsNode): void => {
    if (node.mount.type !== memfs) return;
    if (fs.isDir(node.mode)) {
      for (const child of Object.values(node.contents as Record<string, FsNode>)) visit(child);
    } else if (node.contents instanceof Uint8Array) {
      bytes += node.contents.byteLength;
    }
  };
  visit(fs.lookupPath(PGlite.paths.PG_ROOT, {}).node);
  return bytes;
}

/**
 * PGlite creates a database with a second, throwaway PostgreSQL (initdb's), whose WebAssembly
 * memory and files are garbage once the database opens: about 300 MiB of RSS. V8 frees them only
 * after several full collections, and nothing asks for one while the gateway idles, so a fresh
 * process held 820 MiB rather than 520. The collections are run here, each on a later turn of the
 * event loop (measured: the third frees the memory); `gc` is reached as jest-leak-detector does.
 */
async function releaseInitdb(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  if (typeof gc !== 'function') return;
  for (let round = 0; round < 4; round += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

class PgliteTransactionDriver implements SqlDriver {
  constructor(private readonly tx: Transaction) {}

  async query<Row>(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return (await this.tx.query<Row>(sql, params as unknown[])).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.tx.exec(sql);
  }

  transaction<T>(work: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return work(this);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
