import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse } from 'yaml';

import { loadConfig } from '../../src/config';
import { startTestGateway } from '../helpers/test-gateway';

/**
 * deploy/prometheus and deploy/grafana hold expressions over the gateway's metric names, which
 * nothing would check until an alert stays silent in production. Here promtool (Debian's
 * prometheus package) checks the rules and the scrape configuration and runs the rules' unit
 * tests, and every metric an alert or a dashboard panel names must be one a running gateway's
 * /metrics really exposes.
 */

const ROOT = join(__dirname, '..', '..');
const PROMETHEUS_DIR = join(ROOT, 'deploy', 'prometheus');
const GRAFANA_DIR = join(ROOT, 'deploy', 'grafana');
const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

/** Runs promtool; a failure shows what it printed. */
function promtool(...args: string[]): string {
  try {
    return execFileSync(PROMTOOL, args, { cwd: PROMETHEUS_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** Metric names an expression reads: the gateway's own (`gateway_…`), not recording rules (`instance:gateway_…`), string contents left out. */
function metricsIn(expression: string): string[] {
  const code = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set([...code.matchAll(/(?<![\w:])gateway_[a-z0-9_]+/g)].map((match) => match[0]))];
}

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
}
interface Target {
  readonly expr?: string;
}
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly Target[];
  readonly datasource?: { readonly uid?: string };
}

describe('monitoring deployment files', () => {
  /** What GET /metrics of a gateway with the test defaults declares (histograms with their series suffixes). */
  let exposed: Set<string>;

  beforeAll(async () => {
    if (!existsSync(PROMTOOL)) {
      throw new Error(`promtool is not installed at ${PROMTOOL}: run "apt-get update && apt-get install -y prometheus" (.ci/run does this), or set PROMTOOL_PATH`);
    }
    // Every optional part on, so that its series are declared too.
    const gateway = await startTestGateway({ RATE_LIMIT_ENABLED: 'true' });
    try {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      exposed = new Set(
        [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!])),
      );
    } finally {
      await gateway.close();
    }
  }, 60_000);

  describe('deploy/prometheus', () => {
    const rules = (parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
    const alert = (name: string) => rules.find((rule) => rule.alert === name);

    it('passes promtool check rules and check config', () => {
      expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: \d+ rules found/);
      expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS: prometheus\.yml is valid/);
    });

    it('fires on the series that should fire and on no other (promtool test rules alerts.test.yml)', () => {
      expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
    });

    it('reads only metrics the gateway exposes', () => {
      for (const rule of rules) {
        const names = metricsIn(rule.expr).filter((name) => !exposed.has(name));
        expect({ rule: rule.alert ?? rule.record, unknown: names }).toEqual({ rule: rule.alert ?? rule.record, unknown: [] });
      }
    });

    it("holds the seed's thresholds, the gateway's defaults: hit rate under 90 % a warning, error rate over 1 % critical, judged from 100 operations", () => {
      const defaults = loadConfig({}).cacheMonitor;
      const hitRate = alert('GatewayCacheHitRateLow')!;
      const errorRate = alert('GatewayCacheErrorRateHigh')!;
      expect(hitRate.expr).toMatch(new RegExp(`hit_rate_percent:rate5m < ${defaults.minHitRatePercent}\\s`));
      expect(errorRate.expr).toMatch(new RegExp(`error_rate_percent:rate5m > ${defaults.maxErrorRatePercent}\\s`));
      for (const rule of [hitRate, errorRate]) expect(rule.expr).toContain(`operations:increase5m >= ${defaults.minOperations}`);
      expect(hitRate.labels?.severity).toBe('warning');
      expect(errorRate.labels?.severity).toBe('critical');
    });

    it('scrapes the compose gateway on the port it listens on', () => {
      const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as { rule_files: string[]; scrape_configs: { metrics_path?: string; static_configs: { targets: string[] }[] }[] };
      expect(config.rule_files).toEqual(['alerts.yml']);
      expect(config.scrape_configs.flatMap((scrape) => scrape.static_configs.flatMap((group) => group.targets))).toEqual(['gateway:4000']);
      expect(config.scrape_configs[0]!.metrics_path ?? '/metrics').toBe('/metrics');
    });
  });

  describe('deploy/grafana', () => {
    const dashboard = JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards', 'trading-gateway.json'), 'utf8')) as { uid: string; panels: Panel[]; templating: { list: { name: string; query?: unknown }[] } };
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    const expressions = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr ?? '' })));

    it('has panels for hit rates, latency, tiers, the breaker, warming and rate limiting, each with a query on the Prometheus data source', () => {
      const titles = dashboard.panels.map((panel) => panel.title).join('\n');
      for (const topic of [/hit rate/i, /latency p50 \/ p99/i, /Tiers/, /Redis serving/, /breaker/i, /warming/i, /cache outcome/i, /refused \(429\)/]) expect(titles).toMatch(topic);
      for (const panel of panels) {
        expect({ panel: panel.title, hasQueries: (panel.targets?.length ?? 0) > 0 }).toEqual({ panel: panel.title, hasQueries: true });
        expect(panel.datasource?.uid).toBe('${datasource}');
      }
    });

    it('reads only metrics the gateway exposes, in every panel', () => {
      for (const { panel, expr } of expressions) {
        const names = metricsIn(expr);
        expect({ panel, expr, reads: names.length > 0 }).toEqual({ panel, expr, reads: true });
        expect({ panel, unknown: names.filter((name) => !exposed.has(name)) }).toEqual({ panel, unknown: [] });
      }
      const instanceQuery = JSON.stringify(dashboard.templating.list.find((variable) => variable.name === 'instance')?.query);
      for (const name of metricsIn(instanceQuery)) expect(exposed).toContain(name);
    });

    it('holds valid PromQL in every panel (promtool parses them as recording rules)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
      try {
        const file = join(dir, 'dashboard-rules.yml');
        // Grafana's variables, as Grafana would fill them in.
        const rulesFile = {
          groups: [{ name: 'dashboard', rules: expressions.map(({ expr }, index) => ({ record: `dashboard:panel_${index}`, expr: expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*') })) }],
        };
        writeFileSync(file, JSON.stringify(rulesFile));
        expect(promtool('check', 'rules', file)).toMatch(new RegExp(`SUCCESS: ${expressions.length} rules found`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('is provisioned with the Prometheus data source it names, from the folder compose mounts', () => {
      const datasources = parse(readFileSync(join(GRAFANA_DIR, 'provisioning', 'datasources', 'datasources.yml'), 'utf8')) as { datasources: { uid: string; type: string; url: string; isDefault?: boolean }[] };
      expect(datasources.datasources).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ uid: 'prometheus', type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
          expect.objectContaining({ type: 'jaeger', url: 'http://jaeger:16686' }),
        ]),
      );
      const providers = parse(readFileSync(join(GRAFANA_DIR, 'provisioning', 'dashboards', 'dashboards.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
      expect(providers.providers.map((provider) => provider.options.path)).toEqual(['/var/lib/grafana/dashboards']);
    });
  });
});
