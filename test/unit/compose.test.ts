import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { loadConfig } from '../../src/config';

/**
 * There is no Docker engine on these machines: docker-compose.yml and the Dockerfile are checked
 * by reading them. What is checked is what breaks a `docker compose up` silently: a variable the
 * gateway does not read, a port or healthcheck that points elsewhere, a start before Redis or
 * PostgreSQL is ready.
 */

const ROOT = join(__dirname, '..', '..');

interface Healthcheck {
  readonly test?: string | string[];
}
interface Service {
  readonly image?: string;
  readonly build?: string | { context?: string; dockerfile?: string };
  readonly command?: string | string[];
  readonly environment?: Record<string, string | number | boolean | null> | string[];
  readonly ports?: (string | { target?: number; published?: string | number })[];
  readonly depends_on?: string[] | Record<string, { condition?: string }>;
  readonly healthcheck?: Healthcheck;
}
interface ComposeFile {
  readonly services: Record<string, Service>;
}

/** The secrets a run must be given (the compose file refuses to start without them). */
const SECRETS = { REDIS_PASSWORD: 'compose-redis-secret', POSTGRES_PASSWORD: 'compose-postgres-secret', ADMIN_API_TOKEN: 'compose-admin-token-0123456789' };

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as ComposeFile;
const gateway = compose.services.gateway!;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The variables `src/config.ts` reads, as the .env.example test finds them. */
function variablesConfigReads(): Set<string> {
  return new Set([...readFileSync(join(ROOT, 'src', 'config.ts'), 'utf8').matchAll(/read\(\s*env,\s*'([A-Z_]+)'/g)].map((match) => match[1]!));
}

/** Compose's interpolation: `$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_whole, name: string | undefined, colon: string, kind: string, operand: string) => {
    if (name === undefined) return '$';
    const set = env[name];
    const missing = set === undefined || (colon === ':' && set === '');
    if (!missing) return set;
    if (kind === '?') throw new Error(`${name}: ${operand}`);
    if (kind === '-') return operand;
    return '';
  });
}

function environmentOf(service: Service): Record<string, string> {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => [line.slice(0, line.indexOf('=') === -1 ? undefined : line.indexOf('=')), line.includes('=') ? line.slice(line.indexOf('=') + 1) : ''] as const)
    : Object.entries(raw).map(([name, value]) => [name, value === null ? '' : String(value)] as const);
  return Object.fromEntries(entries);
}

/** Container ports of `ports:` entries (`"host:container"`, `"container"`, or the long form). */
function containerPorts(service: Service, env: Record<string, string>): number[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry === 'object') return Number(entry.target);
    const mapping = interpolate(entry, env).split('/')[0]!;
    return Number(mapping.slice(mapping.lastIndexOf(':') + 1));
  });
}

function healthcheckText(service: Service): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

describe('docker-compose.yml', () => {
  const resolvedGatewayEnv = () => Object.fromEntries(Object.entries(environmentOf(gateway)).map(([name, value]) => [name, interpolate(value, SECRETS)]));

  it('runs Redis, PostgreSQL and the gateway built from the Dockerfile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'postgres', 'redis']);
    const build = typeof gateway.build === 'string' ? { context: gateway.build } : gateway.build;
    expect(build).toMatchObject({ context: '.' });
    expect(build?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
  });

  it('sets on the gateway only variables that src/config.ts reads', () => {
    const known = variablesConfigReads();
    const unknown = Object.keys(environmentOf(gateway)).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('gives the gateway a configuration that loads: production, PostgreSQL and Redis of this file, the admin token', () => {
    const config = loadConfig(resolvedGatewayEnv());
    expect(config.nodeEnv).toBe('production');
    expect(config.adminApiToken).toBe(SECRETS.ADMIN_API_TOKEN);
    const database = new URL(config.database.url ?? 'postgres://unset');
    expect(database.hostname).toBe('postgres');
    expect(database.password).toBe(SECRETS.POSTGRES_PASSWORD);
    expect(config.redis.topology).toMatchObject({ kind: 'standalone' });
    if (config.redis.topology.kind === 'standalone') expect(new URL(config.redis.topology.url).hostname).toBe('redis');
    expect(config.redis.password).toBe(SECRETS.REDIS_PASSWORD);
  });

  it('refuses to start without the secrets', () => {
    for (const secret of Object.keys(SECRETS)) {
      const without: Record<string, string> = { ...SECRETS };
      delete without[secret];
      expect(() => Object.values(environmentOf(gateway)).map((value) => interpolate(value, without))).toThrow(secret);
    }
  });

  it('publishes the port the gateway listens on, and health-checks that port', () => {
    const port = loadConfig(resolvedGatewayEnv()).http.port;
    expect(containerPorts(gateway, SECRETS)).toEqual([port]);
    expect(healthcheckText(gateway)).toContain(`http://127.0.0.1:${port}/health/ready`);
  });

  it('points the gateway at the PostgreSQL database and user the postgres service creates', () => {
    const database = new URL(loadConfig(resolvedGatewayEnv()).database.url ?? 'postgres://unset');
    const postgres = Object.fromEntries(Object.entries(environmentOf(compose.services.postgres!)).map(([name, value]) => [name, interpolate(value, SECRETS)]));
    expect(database.username).toBe(postgres.POSTGRES_USER);
    expect(database.pathname).toBe(`/${postgres.POSTGRES_DB}`);
    expect(database.port || '5432').toBe('5432');
    expect(healthcheckText(compose.services.postgres!)).toMatch(/pg_isready/);
  });

  it('protects Redis with the password the gateway is given, with append-only persistence', () => {
    const redis = compose.services.redis!;
    const command = (Array.isArray(redis.command) ? redis.command : (redis.command ?? '').split(/\s+/)).map((part) => interpolate(part, SECRETS));
    expect(command[command.indexOf('--requirepass') + 1]).toBe(loadConfig(resolvedGatewayEnv()).redis.password);
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    expect(healthcheckText(redis)).toMatch(/redis-cli .*ping/);
  });

  it('gives every service a healthcheck', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, healthcheck: healthcheckText(service) }).toEqual({ name, healthcheck: expect.stringMatching(/\S/) });
    }
  });

  it('starts the gateway only once Redis and PostgreSQL are healthy', () => {
    expect(gateway.depends_on).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
    for (const service of Object.values(compose.services)) {
      if (service.depends_on === undefined) continue;
      expect(Array.isArray(service.depends_on)).toBe(false);
      for (const dependency of Object.values(service.depends_on as Record<string, { condition?: string }>)) expect(dependency.condition).toBe('service_healthy');
    }
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds in a node:20 stage and runs a separate, non-root runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:20\b/);
    expect(stages[0]).toMatch(/npm ci\b/);
    expect(stages[0]).toMatch(/npm run build/);
    const user = [...runtime.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('ships production dependencies and dist only', () => {
    expect(dockerfile).toMatch(/npm ci [^\n]*--omit=dev/);
    const copied = [...runtime.matchAll(/^COPY\s+(?:--\S+\s+)*(\S+)\s+\S+$/gm)].map((match) => match[1]);
    expect(copied.sort()).toEqual(['/app/dist/src', '/app/node_modules', 'package.json']);
  });

  it('exposes the port compose publishes and health-checks readiness on it', () => {
    const port = loadConfig(resolvedEnvironment()).http.port;
    expect(runtime).toMatch(new RegExp(`^EXPOSE ${port}$`, 'm'));
    expect(runtime).toMatch(new RegExp(`^ENV [^]*\\bPORT=${port}\\b`, 'm'));
    expect(runtime).toMatch(/^HEALTHCHECK [\s\S]*\/health\/ready/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
  });

  function resolvedEnvironment(): Record<string, string> {
    return Object.fromEntries(Object.entries(environmentOf(gateway)).map(([name, value]) => [name, interpolate(value, SECRETS)]));
  }
});

describe('.dockerignore', () => {
  it('keeps local secrets, dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', 'dist', '.git']));
  });
});
