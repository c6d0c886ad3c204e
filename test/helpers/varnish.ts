import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './redis-server';

/** The VCL the `cdn` compose profile runs. */
export const SHIPPED_VCL = join(__dirname, '..', '..', 'deploy', 'varnish', 'default.vcl');

/**
 * The shipped VCL with its backend moved to `host:port`: the file names the compose service
 * (`gateway:4000`), which does not resolve here. Fails if the backend is not spelled as expected,
 * so that the file under test cannot silently differ from the one shipped.
 */
export function vclFor(backend: { host: string; port: number }): string {
  const shipped = readFileSync(SHIPPED_VCL, 'utf8');
  const backendBlock = /(backend gateway \{[^}]*?\.host = )"gateway";([^}]*?\.port = )"4000";/;
  if (!backendBlock.test(shipped)) throw new Error(`${SHIPPED_VCL}: backend gateway { .host = "gateway"; .port = "4000"; } not found`);
  return shipped.replace(backendBlock, `$1"${backend.host}";$2"${backend.port}";`);
}

/**
 * Debian's varnishd, in the foreground, on a loopback port of its own with its own working
 * directory, running the shipped VCL in front of `backendPort`.
 */
export class Varnish {
  private process: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(options: { backendPort: number; port?: number }): Promise<Varnish> {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-varnish-'));
    writeFileSync(join(dir, 'default.vcl'), vclFor({ host: '127.0.0.1', port: options.backendPort }));
    const varnish = new Varnish(options.port ?? (await freePort()), dir);
    await varnish.launch();
    return varnish;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGTERM, then SIGKILL if it lingers: the cache (in memory) goes with it. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    // -j none: no privilege separation (tests run as whoever runs them); -n: a working directory of its own.
    const args = ['-F', '-j', 'none', '-n', join(this.dir, 'work'), '-a', `127.0.0.1:${this.port}`, '-f', join(this.dir, 'default.vcl'), '-s', 'malloc,64m', '-p', 'vsl_space=4M'];
    const child = spawn('varnishd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // Ready when the VCL answers: a PURGE naming no tag is refused by the VCL itself (400), without the backend.
    for (let attempt = 0; attempt < 200; attempt += 1) {
      if (child.exitCode !== null) break;
      try {
        const response = await fetch(this.url, { method: 'PURGE', signal: AbortSignal.timeout(1_000) });
        await response.arrayBuffer();
        if (response.status === 400) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.stop();
    throw new Error(`varnishd on port ${this.port} did not start:\n${this.output}`);
  }
}

/**
 * A TCP relay from a port of its own to `targetPort` that can be cut (connections refused, open
 * ones dropped) and restored on the same port: a CDN that the gateway cannot reach for a while,
 * while the CDN itself keeps its cache.
 */
export class TcpRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpRelay> {
    const relay = new TcpRelay(await freePort(), targetPort);
    await relay.restore();
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }

  async restore(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((incoming) => {
      const outgoing = connect({ host: '127.0.0.1', port: this.targetPort });
      for (const socket of [incoming, outgoing]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          incoming.destroy();
          outgoing.destroy();
        });
      }
      incoming.pipe(outgoing).pipe(incoming);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }
}
