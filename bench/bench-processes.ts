import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';

import type { Redis } from 'ioredis';

/**
 * What the benchmarks share: each server they measure is a child process of the bench script
 * itself (`fork(__filename, ['serve', …])`), so that no server shares an event loop with the load
 * generator, and it says `{ type: 'ready', port }` over IPC once it listens.
 */
export function startServer(
  script: string,
  args: readonly string[],
  label: string,
  options: { env?: NodeJS.ProcessEnv; execArgv?: readonly string[]; /** A program node runs under, with its options (valgrind). */ wrapper?: readonly [string, ...string[]] } = {},
): Promise<{ process: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const execArgv = [...process.execArgv, ...(options.execArgv ?? [])];
    const [wrapper, ...wrapperArgs] = options.wrapper ?? [];
    const child = fork(script, [...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: options.env ?? process.env,
      ...(wrapper === undefined ? { execArgv } : { execPath: wrapper, execArgv: [...wrapperArgs, process.execPath, ...execArgv] }),
    });
    // Under valgrind a gateway takes minutes to start.
    const timer = setTimeout(() => reject(new Error(`${label} did not start`)), wrapper === undefined ? 120_000 : 600_000);
    child.once('message', (message: { type?: unknown; port?: unknown }) => {
      clearTimeout(timer);
      if (message.type === 'ready' && typeof message.port === 'number') resolve({ process: child, port: message.port });
    });
    child.once('exit', (code) => reject(new Error(`${label} exited (${code})`)));
  });
}

/** Asks a server child for its figures (`{ type: 'stats' }`) and waits for the answer of that type. */
export function askStats<Stats>(child: ChildProcess): Promise<Stats> {
  return new Promise((resolve) => {
    const listener = (message: { type?: unknown }) => {
      if (message.type !== 'stats') return;
      child.off('message', listener);
      resolve(message as Stats);
    };
    child.on('message', listener);
    child.send({ type: 'stats' });
  });
}

/** The median of the finite values (rounds are reported by their median); NaN when there is none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * A bench script's entry point. A failure is printed with its stack and exits 1. A finished
 * orchestrator exits 0, so that its children's sockets never keep it alive; a server child
 * (`stayUp`) keeps serving until its orchestrator tells it to stop.
 */
export function runEntry(work: () => Promise<unknown>, options: { stayUp?: boolean } = {}): void {
  work().then(
    () => {
      if (options.stayUp !== true) process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/** Removes what a run left in Redis under a pattern (its keys, leases, bus membership), by SCAN, never KEYS. */
export async function removeKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** A port free on loopback now (the server that asks for it is started right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A gateway as deployed (`node {main}`, the entry point of a build) listening on `port`, with
 * exactly `env` (see demoGatewayEnv) and in a directory without a .env. Resolves once its
 * readiness check answers.
 */
export async function spawnGateway(main: string, env: NodeJS.ProcessEnv, port: number, label: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [main], { cwd: tmpdir(), env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`))));
  exited.catch(() => undefined);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ready = await Promise.race([fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.ok, () => false), exited]);
    if (ready) return child;
    if (Date.now() > deadline) throw new Error(`${label} was not ready within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** SIGTERM, and the process's exit (a gateway's graceful shutdown). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * What a bench's gateway runs with: production mode, the embedded database with the demo seed,
 * the simulated provider, no warming (every run starts cold), and a key prefix of its own; no
 * other variable of this shell, so that nothing on this machine changes what is measured.
 * `extra` adds to it or overrides it.
 */
export function demoGatewayEnv(settings: { port: number; prefix: string; redisUrl: string; adminToken: string }, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(settings.port),
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'true',
    PGLITE_DATA_DIR: 'memory://',
    REDIS_URL: settings.redisUrl,
    CACHE_KEY_PREFIX: settings.prefix,
    ADMIN_API_TOKEN: settings.adminToken,
    CACHE_WARMING_ENABLED: 'false',
    MARKET_DATA_PROVIDER: 'simulated',
    ...extra,
  };
}
