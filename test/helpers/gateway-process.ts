import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import { TEST_ADMIN_TOKEN } from './test-gateway';

const ROOT = `${__dirname}/../..`;

/**
 * Compiles the gateway as `npm start` does (`tsc -b`, into dist/), once per test file that needs
 * real processes; nothing to do when dist/ is up to date (`.ci/run` builds once for both Node runs).
 */
export function buildGateway(): void {
  execFileSync(process.execPath, [`${ROOT}/node_modules/typescript/bin/tsc`, '-b', `${ROOT}/tsconfig.build.json`], { stdio: 'inherit', timeout: 180_000 });
}

/**
 * A gateway in a process of its own (`node dist/src/main.js`), as deployed: what two of these
 * share is only what goes through Redis and PostgreSQL.
 */
export class GatewayProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static start(env: Record<string, string>): Promise<GatewayProcess> {
    const child = spawn(process.execPath, [`${ROOT}/dist/src/main.js`], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ADMIN_API_TOKEN: TEST_ADMIN_TOKEN, CACHE_WARMING_ENABLED: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start in 90 s: ${stderr}`)), 90_000);
      child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = parseLogLine(line);
        if (entry?.msg === 'gateway listening' && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(new GatewayProcess(child, entry.url));
        }
      });
    });
  }

  /** POSTs an operation; returns the status, the x-cache marker and the parsed body. */
  async graphql<Data>(query: string, variables?: Record<string, unknown>, token?: string): Promise<{ status: number; cache: string | null; data?: Data; errors?: unknown[] }> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Data; errors?: unknown[] };
    return { status: response.status, cache: response.headers.get('x-cache'), ...body };
  }

  /** POSTs JSON to an ops endpoint with a bearer token; returns the status. */
  async post(path: string, body: unknown, token: string): Promise<number> {
    const response = await fetch(`${this.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    await response.arrayBuffer();
    return response.status;
  }

  async json<T>(path: string): Promise<T> {
    return (await (await fetch(`${this.url}${path}`)).json()) as T;
  }

  /** SIGKILL: the process dies without a word (no lease released, no socket closed cleanly). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, as an orchestrator stops it; resolves when the process has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

function parseLogLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
