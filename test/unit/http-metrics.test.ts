import { Counter, Histogram, Registry } from 'prom-client';

import { HttpMetrics } from '../../src/operator/prometheus';

/** The same observations through prom-client's own counter and histogram, with HttpMetrics's names, help and buckets. */
function promClientText(observations: readonly (readonly [string, string, number, number])[]): Promise<string> {
  const registry = new Registry();
  const requests = new Counter({ name: 'gateway_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  for (const [method, route, status, seconds] of observations) {
    requests.inc({ method, route, status: String(status) });
    duration.observe({ method, route }, seconds);
  }
  return registry.metrics();
}

describe('HttpMetrics', () => {
  // On bounds, between them, above the last; two routes, two statuses, one method only known as OTHER.
  const observations = [
    ['POST', '/graphql', 200, 0.0004],
    ['POST', '/graphql', 200, 0.001],
    ['POST', '/graphql', 200, 0.003],
    ['POST', '/graphql', 429, 0.0002],
    ['GET', '/graphql', 200, 0.07],
    ['GET', '/graphql', 304, 2.5],
    ['GET', '/metrics', 200, 4],
    ['OTHER', '/graphql', 405, 0.02],
  ] as const;

  it('scrapes as the same counter and histogram that prom-client would count', async () => {
    const registry = new Registry();
    const metrics = new HttpMetrics(registry);
    for (const [method, route, status, seconds] of observations) metrics.observe(method === 'OTHER' ? 'PROPFIND' : method, route, status, seconds);

    expect(await registry.metrics()).toBe(await promClientText(observations));
  });

  it('gives the registry its histogram as prom-client objects (the operator console reads them)', async () => {
    const registry = new Registry();
    const metrics = new HttpMetrics(registry);
    metrics.observe('POST', '/graphql', 200, 0.003);
    metrics.observe('POST', '/graphql', 500, 0.3);

    const [histogram] = (await registry.getMetricsAsJSON()).filter((metric) => metric.name === 'gateway_http_request_duration_seconds');
    const values = histogram!.values.map(({ labels, value, ...rest }) => ({ labels, value, name: (rest as { metricName?: string }).metricName }));
    expect(values).toContainEqual({ labels: { le: 0.0025, method: 'POST', route: '/graphql' }, value: 0, name: 'gateway_http_request_duration_seconds_bucket' });
    expect(values).toContainEqual({ labels: { le: 0.005, method: 'POST', route: '/graphql' }, value: 1, name: 'gateway_http_request_duration_seconds_bucket' });
    expect(values).toContainEqual({ labels: { le: 0.5, method: 'POST', route: '/graphql' }, value: 2, name: 'gateway_http_request_duration_seconds_bucket' });
    expect(values).toContainEqual({ labels: { le: '+Inf', method: 'POST', route: '/graphql' }, value: 2, name: 'gateway_http_request_duration_seconds_bucket' });
    expect(values).toContainEqual({ labels: { method: 'POST', route: '/graphql' }, value: 2, name: 'gateway_http_request_duration_seconds_count' });
    expect(values.find((value) => value.name === 'gateway_http_request_duration_seconds_sum')!.value).toBeCloseTo(0.303, 10);
  });
});
