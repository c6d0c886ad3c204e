import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface ServerOptions {
  /** Options after the defaults (cluster mode, replication); given the port and the server's own folder. */
  readonly args?: (server: { port: number; dir: string }) => string[];
  /** The contents of a config file passed first (Sentinel needs one it can rewrite). */
  readonly configFile?: (server: { port: number; dir: string }) => string;
}

/**
 * A `redis-server` of the test's own, on a free port, so that it can be killed, frozen and
 * restarted without touching the machine's shared Redis on 6379.
 */
export class RedisServer {
  private process: ChildProcess | undefined;
  private readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly persistent: boolean,
    private readonly options: ServerOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'gateway-redis-'));
  }

  /** `persistent` keeps data across restarts (append-only file), as a production Redis would. */
  static async start(options: ServerOptions & { persistent?: boolean } = {}): Promise<RedisServer> {
    // The port was free when picked, but another process may take it (or, in cluster mode, the
    // bus port 10000 above it, often an outgoing connection's) before the server binds it: the
    // server then exits at once, and another port is tried.
    for (let attempt = 1; ; attempt += 1) {
      const server = new RedisServer(await freePort(), options.persistent ?? false, options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        await server.stop();
        if (!(error instanceof ServerExited) || attempt === 5) throw error;
      }
    }
  }

  /** The server's own folder (its data and, in cluster mode, its nodes file). */
  get directory(): string {
    return this.dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** One `redis-cli` command against this server, outside any client under test; its output, trimmed. */
  async cli(...args: string[]): Promise<string> {
    return (await run('redis-cli', ['-p', String(this.port), ...args], { timeout: 5_000 })).stdout.trim();
  }

  /** SIGKILL: the connection drops at once, as in a crash. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  /** SIGSTOP: connections stay open but nothing answers, the hardest case for a client. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const persistence = this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const where = { port: this.port, dir: this.dir };
    // A config file must come first; Sentinel also rewrites it, so it is written once and then left to the server.
    const configFile = join(this.dir, 'redis.conf');
    if (this.options.configFile !== undefined && !existsSync(configFile)) writeFileSync(configFile, this.options.configFile(where));
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, ...persistence, ...(this.options.args?.(where) ?? [])];
    this.process = spawn('redis-server', this.options.configFile === undefined ? args : [configFile, ...args], {
      stdio: 'ignore',
    });
    const child = this.process;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (await pings(this.port)) return;
      if (child.exitCode !== null || child.signalCode !== null) throw new ServerExited(this.port);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${this.port} did not start`);
  }
}

class ServerExited extends Error {
  constructor(port: number) {
    super(`redis-server on port ${port} exited as it started (its port taken?)`);
  }
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A port nothing listens on right now (the OS picks it; the caller races nobody on loopback in tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
