import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { loadConfig } from '../../src/config';

/**
 * There is no Docker engine on these machines: docker-compose.yml and the Dockerfile are checked
 * by reading them. What is checked is what breaks a `docker compose up` silently: a variable the
 * gateway does not read, a port or healthcheck that points elsewhere, a start before Redis or
 * PostgreSQL is ready. The `scale` profile (a Redis Cluster, two gateways, nginx in front) is checked
 * the same way, with deploy/nginx.conf.
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
  readonly profiles?: string[];
  readonly hostname?: string;
  readonly volumes?: string[];
  readonly restart?: string;
}
interface ComposeFile {
  readonly services: Record<string, Service>;
}

/** The secrets a run must be given (the compose file refuses to start without them). */
const SECRETS = { REDIS_PASSWORD: 'compose-redis-secret', POSTGRES_PASSWORD: 'compose-postgres-secret', ADMIN_API_TOKEN: 'compose-admin-token-0123456789' };

// Compose resolves YAML merge keys (`<<: *gateway-environment`); so must the parser.
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
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

function commandText(service: Service): string {
  return Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
}

function resolvedEnvironmentOf(service: Service, env: Record<string, string> = SECRETS): Record<string, string> {
  return Object.fromEntries(Object.entries(environmentOf(service)).map(([name, value]) => [name, interpolate(value, env)]));
}

/** Services that `docker compose up` starts without a profile. */
const defaultServices = Object.entries(compose.services).filter(([, service]) => service.profiles === undefined);

/** A one-shot service (it runs to completion and is never restarted): others wait for its success, not its health. */
const isOneShot = (service: Service) => service.restart === 'no';

describe('docker-compose.yml', () => {
  const resolvedGatewayEnv = () => Object.fromEntries(Object.entries(environmentOf(gateway)).map(([name, value]) => [name, interpolate(value, SECRETS)]));

  it('runs Redis, PostgreSQL and the gateway built from the Dockerfile', () => {
    expect(defaultServices.map(([name]) => name).sort()).toEqual(['gateway', 'postgres', 'redis']);
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

  it('gives every service that keeps running a healthcheck', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (isOneShot(service)) continue;
      expect({ name, healthcheck: healthcheckText(service) }).toEqual({ name, healthcheck: expect.stringMatching(/\S/) });
    }
  });

  it('starts the gateway only once Redis and PostgreSQL are healthy', () => {
    expect(gateway.depends_on).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
  });

  it('starts every service after what it needs is healthy, or has run to completion when it runs once', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.depends_on === undefined) continue;
      expect(Array.isArray(service.depends_on)).toBe(false);
      for (const [dependencyName, dependency] of Object.entries(service.depends_on as Record<string, { condition?: string }>)) {
        const target = compose.services[dependencyName];
        expect({ name, dependencyName, exists: target !== undefined }).toEqual({ name, dependencyName, exists: true });
        const expected = isOneShot(target!) ? 'service_completed_successfully' : 'service_healthy';
        expect({ name, dependencyName, condition: dependency.condition }).toEqual({ name, dependencyName, condition: expected });
        // A default service must never wait for one that only a profile starts.
        if (service.profiles === undefined) expect({ name, dependencyName, profiles: target!.profiles }).toEqual({ name, dependencyName, profiles: undefined });
      }
    }
  });
});

describe('docker-compose.yml, profile scale', () => {
  const scale = Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('scale'));
  const names = scale.map(([name]) => name);
  const clusterNodes = scale.filter(([name]) => /^redis-node-\d+$/.test(name));
  const gateways = scale.filter(([name]) => /^gateway-\d+$/.test(name));
  const init = compose.services['redis-cluster-init']!;
  const lb = compose.services.lb!;
  const nginx = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');

  it('runs a 3-master Redis Cluster, its one-shot init, two gateways and a load balancer, in that profile only', () => {
    expect(names.sort()).toEqual(['gateway-1', 'gateway-2', 'lb', 'redis-cluster-init', 'redis-node-1', 'redis-node-2', 'redis-node-3']);
    for (const [, service] of scale) expect(service.profiles).toEqual(['scale']);
    expect(isOneShot(init)).toBe(true);
    expect(scale.filter(([, service]) => isOneShot(service)).map(([name]) => name)).toEqual(['redis-cluster-init']);
  });

  it('builds every gateway instance from the Dockerfile, as the same image as the single gateway', () => {
    for (const [, service] of gateways) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build;
      expect(build).toMatchObject({ context: '.' });
      expect(build?.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
      expect(service.image).toBe(gateway.image);
      expect(service.healthcheck).toEqual(gateway.healthcheck);
    }
  });

  it('sets on the gateways only variables that src/config.ts reads', () => {
    const known = variablesConfigReads();
    for (const [name, service] of gateways) {
      expect({ name, unknown: Object.keys(environmentOf(service)).filter((variable) => !known.has(variable)) }).toEqual({ name, unknown: [] });
    }
  });

  it('gives each gateway the single gateway\'s configuration, on the Redis Cluster of this profile', () => {
    const single = resolvedEnvironmentOf(gateway);
    for (const [, service] of gateways) {
      const env = resolvedEnvironmentOf(service);
      const without = (record: Record<string, string>, name: string) => Object.fromEntries(Object.entries(record).filter(([variable]) => variable !== name));
      expect(without(env, 'REDIS_CLUSTER_NODES')).toEqual(without(single, 'REDIS_URL'));

      const config = loadConfig(env);
      expect(config.nodeEnv).toBe('production');
      expect(config.database.url).toBe(loadConfig(single).database.url);
      expect(config.redis.db).toBe(0);
      expect(config.redis.topology).toEqual({ kind: 'cluster', nodes: clusterNodes.map(([name]) => ({ host: name, port: 6379 })) });
      expect(config.redis.password).toBe(SECRETS.REDIS_PASSWORD);
      expect(config.cache.fleetFlightWaitMs).toBeGreaterThan(0);
    }
  });

  it('runs cluster-enabled nodes that announce their service name, protected by the gateways\' password, health-checked', () => {
    expect(clusterNodes).toHaveLength(3);
    for (const [name, node] of clusterNodes) {
      expect(node.image).toMatch(/^redis:7\b/);
      expect(node.hostname).toBe(name);
      const command = commandText(node);
      expect(command).toMatch(/--port 6379\b/);
      expect(command).toMatch(/--cluster-enabled yes\b/);
      // $$ is compose's escape: the shell in the container expands $HOSTNAME (the `hostname:` above) and REDISCLI_AUTH.
      expect(command).toContain('--cluster-announce-hostname "$$HOSTNAME"');
      expect(command).toMatch(/--cluster-preferred-endpoint-type hostname\b/);
      expect(command).toContain('--requirepass "$$REDISCLI_AUTH"');
      expect(resolvedEnvironmentOf(node).REDISCLI_AUTH).toBe(SECRETS.REDIS_PASSWORD);
      expect(healthcheckText(node)).toMatch(/redis-cli .*ping/);
    }
  });

  it('creates the cluster once its nodes are healthy, over all three masters, and leaves an existing one alone', () => {
    expect(init.depends_on).toEqual(Object.fromEntries(clusterNodes.map(([name]) => [name, { condition: 'service_healthy' }])));
    const script = commandText(init);
    expect(script).toMatch(/redis-cli --cluster create .* --cluster-replicas 0 --cluster-yes/);
    expect(script).toContain(`nodes="${clusterNodes.map(([name]) => name).join(' ')}"`);
    expect(script).toMatch(/if redis-cli -h redis-node-1 cluster info \| grep -q '\^cluster_slots_assigned:16384'; then/);
    expect(script).toMatch(/cluster_state:ok/);
    expect(resolvedEnvironmentOf(init).REDISCLI_AUTH).toBe(SECRETS.REDIS_PASSWORD);
  });

  it('starts the gateways once the cluster has been created and PostgreSQL is healthy', () => {
    expect(gateways.map(([name]) => name)).toEqual(['gateway-1', 'gateway-2']);
    for (const [, service] of gateways) {
      expect(service.depends_on).toEqual({ 'redis-cluster-init': { condition: 'service_completed_successfully' }, postgres: { condition: 'service_healthy' } });
      expect(service.ports ?? []).toEqual([]);
    }
  });

  it('balances over exactly the gateways of the profile, on the port they listen on', () => {
    const upstream = /upstream\s+(\w+)\s*\{([^}]*)\}/.exec(nginx);
    expect(upstream).not.toBeNull();
    const [, upstreamName, body] = upstream!;
    const servers = [...body!.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((match) => match[1]);
    const expected = gateways.map(([name, service]) => `${name}:${loadConfig(resolvedEnvironmentOf(service)).http.port}`);
    expect(servers.sort()).toEqual(expected.sort());
    expect(nginx).toMatch(new RegExp(`proxy_pass\\s+http://${upstreamName};`));
    expect(nginx).toMatch(/proxy_next_upstream\s+error\s+timeout/);
    expect(body).toMatch(/max_fails=\d+/);
    // Round robin: no other balancing method.
    expect(body).not.toMatch(/\b(least_conn|ip_hash|hash|random)\b/);
  });

  it('publishes the load balancer\'s port, health-checks it, and starts it once both gateways are healthy', () => {
    const listen = Number(/^\s*listen\s+(\d+);/m.exec(nginx)?.[1]);
    expect(containerPorts(lb, SECRETS)).toEqual([listen]);
    expect(healthcheckText(lb)).toContain(`http://127.0.0.1:${listen}/`);
    expect(lb.depends_on).toEqual(Object.fromEntries(gateways.map(([name]) => [name, { condition: 'service_healthy' }])));
    expect(lb.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('refuses to start without the secrets', () => {
    for (const secret of ['REDIS_PASSWORD', 'POSTGRES_PASSWORD', 'ADMIN_API_TOKEN'] as const) {
      const without: Record<string, string> = { ...SECRETS };
      delete without[secret];
      for (const [, service] of gateways) expect(() => resolvedEnvironmentOf(service, without)).toThrow(secret);
    }
    const without: Record<string, string> = { ...SECRETS };
    delete without.REDIS_PASSWORD;
    for (const service of [...clusterNodes.map(([, node]) => node), init]) expect(() => resolvedEnvironmentOf(service, without)).toThrow('REDIS_PASSWORD');
  });
});

describe('docker-compose.yml, profile cdn', () => {
  const varnish = compose.services.varnish!;
  const vcl = readFileSync(join(ROOT, 'deploy', 'varnish', 'default.vcl'), 'utf8');
  const command = commandText(varnish);
  const listen = Number(/-a :(\d+)\b/.exec(command)?.[1]);

  it('runs Varnish alone in that profile, from Debian bookworm\'s package (the one the tests run), once the gateway is healthy', () => {
    expect(Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('cdn')).map(([name]) => name)).toEqual(['varnish']);
    expect(varnish.profiles).toEqual(['cdn']);
    expect(varnish.build).toMatchObject({ context: './deploy/varnish' });
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'varnish', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM debian:bookworm\b/m);
    expect(dockerfile).toMatch(/apt-get install [^\n]*\bvarnish\b/);
    expect(varnish.depends_on).toEqual({ gateway: { condition: 'service_healthy' } });
  });

  it('runs the shipped VCL in the foreground, on the port it publishes and health-checks', () => {
    expect(varnish.volumes).toContain('./deploy/varnish/default.vcl:/etc/varnish/default.vcl:ro');
    expect(command).toMatch(/^varnishd -F /);
    expect(command).toContain('-f /etc/varnish/default.vcl');
    expect(listen).toBeGreaterThan(0);
    expect(containerPorts(varnish, SECRETS)).toEqual([listen]);
    expect(healthcheckText(varnish)).toContain(`/dev/tcp/127.0.0.1/${listen}`);
  });

  it('sends Varnish to the gateway service on the port it listens on, and lets that service purge', () => {
    const backend = /backend gateway \{[^}]*\.host = "([^"]+)";[^}]*\.port = "(\d+)";/.exec(vcl);
    expect(backend?.[1]).toBe('gateway');
    expect(Number(backend?.[2])).toBe(loadConfig(resolvedEnvironmentOf(gateway)).http.port);
    expect(/acl purgers \{([^}]*)\}/.exec(vcl)?.[1]).toContain('("gateway")');
  });

  it('has the gateway purge Varnish with the command this file documents, and purge nothing by default', () => {
    expect(loadConfig(resolvedEnvironmentOf(gateway)).cdn.purgeUrl).toBeUndefined();
    const documented = /CDN_PURGE_URL=(\S+) docker compose [^\n]*--profile cdn up/.exec(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))?.[1];
    expect(documented).toBeDefined();
    const purgeUrl = new URL(loadConfig(resolvedEnvironmentOf(gateway, { ...SECRETS, CDN_PURGE_URL: documented! })).cdn.purgeUrl!);
    expect(purgeUrl.hostname).toBe('varnish');
    expect(Number(purgeUrl.port)).toBe(listen);
  });
});

describe('docker-compose.yml, profile observability', () => {
  const profile = Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('observability'));
  const prometheus = compose.services.prometheus!;
  const grafana = compose.services.grafana!;
  const jaeger = compose.services.jaeger!;
  const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  const scrape = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: { static_configs: { targets: string[] }[] }[] };
  const datasources = (parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as { datasources: { type: string; url: string }[] }).datasources;
  const dashboardProviders = (parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'provisioning', 'dashboards', 'dashboards.yml'), 'utf8')) as { providers: { options: { path: string } }[] }).providers;
  /** The container path a `./host:container[:ro]` volume mounts `hostPath` at. */
  const mountOf = (service: Service, hostPath: string) => service.volumes?.map((volume) => volume.split(':')).find(([host]) => host === hostPath)?.[1];

  it('runs Prometheus, Grafana and Jaeger in that profile only, none of them needed by a default service', () => {
    expect(profile.map(([name]) => name).sort()).toEqual(['grafana', 'jaeger', 'prometheus']);
    for (const [, service] of profile) expect(service.profiles).toEqual(['observability']);
  });

  it('has Prometheus read deploy/prometheus (its configuration and alert rules) and scrape the gateway on the port it listens on', () => {
    const configDir = mountOf(prometheus, './deploy/prometheus');
    expect(configDir).toBe('/etc/prometheus');
    expect(commandText(prometheus)).toContain(`--config.file=${configDir}/prometheus.yml`);
    expect(scrape.rule_files).toEqual(['alerts.yml']);
    const port = loadConfig(resolvedEnvironmentOf(gateway)).http.port;
    expect(scrape.scrape_configs.flatMap((config) => config.static_configs.flatMap((group) => group.targets))).toEqual([`gateway:${port}`]);
    expect(prometheus.depends_on).toEqual({ gateway: { condition: 'service_healthy' } });
    expect(containerPorts(prometheus, SECRETS)).toEqual([9090]);
    expect(healthcheckText(prometheus)).toContain('http://127.0.0.1:9090/-/ready');
  });

  it('has Grafana provisioned from deploy/grafana, with data sources at the services of this profile', () => {
    expect(mountOf(grafana, './deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    expect(dashboardProviders.map((provider) => provider.options.path)).toEqual([mountOf(grafana, './deploy/grafana/dashboards')]);
    expect(datasources.map((source) => [source.type, source.url])).toEqual([
      ['prometheus', `http://prometheus:${containerPorts(prometheus, SECRETS)[0]}`],
      ['jaeger', `http://jaeger:${containerPorts(jaeger, SECRETS)[0]}`],
    ]);
    expect(grafana.depends_on).toEqual({ prometheus: { condition: 'service_healthy' }, jaeger: { condition: 'service_healthy' } });
    expect(healthcheckText(grafana)).toContain(`http://127.0.0.1:${containerPorts(grafana, SECRETS)[0]}/api/health`);
  });

  it('runs Jaeger with its OTLP receiver on, and has the gateway trace to it when compose.env says so, as documented (no tracing otherwise)', () => {
    expect(resolvedEnvironmentOf(jaeger).COLLECTOR_OTLP_ENABLED).toBe('true');
    const documented = /echo OTEL_EXPORTER_OTLP_ENDPOINT=(\S+) >> compose\.env\n#\s+docker compose --env-file compose\.env --profile observability up/.exec(composeText)?.[1];
    expect(documented).toBe('http://jaeger:4318');
    expect(loadConfig(resolvedEnvironmentOf(gateway)).tracing).toBeUndefined();
    expect(loadConfig(resolvedEnvironmentOf(gateway, { ...SECRETS, OTEL_EXPORTER_OTLP_ENDPOINT: documented! })).tracing?.tracesUrl).toBe('http://jaeger:4318/v1/traces');
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds in a node:24 (LTS) stage and runs a separate, non-root runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:24\b/);
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
