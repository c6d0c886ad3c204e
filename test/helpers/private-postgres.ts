import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from './redis-server';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, on a free loopback
 * port), so that a test can stop and restart the database under a running gateway without
 * touching the machine's shared server on 5432. Needs the server binaries (Debian's
 * postgresql-NN package); as root, every command runs as the `postgres` user, because initdb and
 * the server refuse to run as root.
 *
 * Commands run asynchronously on purpose: the load generator of the test shares this event loop,
 * and a synchronous pg_ctl would show up as latency that the gateway never caused.
 */
export class PrivatePostgres {
  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly owner: { readonly name: string; readonly uid: number; readonly gid: number } | undefined,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const bin = serverBinDir();
    const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'gateway-pg-'));
    if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
    const cluster = new PrivatePostgres(bin, dir, await freePort(), owner);
    // trust on loopback only, no fsync: a throw-away cluster whose durability is not under test.
    await cluster.command('initdb', ['-D', cluster.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    await cluster.resume();
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server (again) and waits until it accepts connections. */
  async resume(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    await this.command('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '30', 'start']);
  }

  /** `-m immediate`: every backend dies at once, as in a crash; the next start runs crash recovery. */
  async crash(): Promise<void> {
    await this.command('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.crash().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private async command(program: string, args: readonly string[]): Promise<void> {
    const path = join(this.bin, program);
    const [file, argv] = this.owner === undefined ? [path, args] : ['runuser', ['-u', this.owner.name, '--', path, ...args]];
    await run(file, argv, { timeout: 60_000, cwd: this.dir });
  }
}

/** The newest installed server's bin directory (PG_BIN overrides it). */
function serverBinDir(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error(`no PostgreSQL server binaries under ${root} (install postgresql, or set PG_BIN)`);
  return join(root, newest, 'bin');
}

function postgresUser(): { name: string; uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root needs a "postgres" user to own the private cluster');
  return { name: 'postgres', uid, gid: id('-g') };
}
