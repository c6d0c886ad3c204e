import { ConfigError, loadConfig } from '../../src/config';

const tracingOf = (env: Record<string, string>) => loadConfig(env).tracing;
const refusal = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return { variable: error.variable, message: error.message };
    throw error;
  }
  throw new Error('the configuration was accepted');
};

describe('tracing configuration (the standard OTEL_* variables)', () => {
  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(tracingOf({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_SERVICE_NAME: 'x' })).toBeUndefined();
  });

  it('appends /v1/traces to the base endpoint; the traces endpoint is used as given and wins', () => {
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })?.tracesUrl).toBe('http://collector:4318/v1/traces');
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp' })?.tracesUrl).toBe('https://traces.example/otlp');
  });

  it('has the defaults of the specification, and this service’s name', () => {
    expect(tracingOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: 'trading-gateway',
      resourceAttributes: {},
      sampler: { kind: 'parentbased_always_on', ratio: 1 },
      exportDelayMs: 5000,
      protocol: 'http/protobuf',
    });
  });

  it('exports in protobuf or JSON (OTEL_EXPORTER_OTLP_PROTOCOL; the traces variable wins), and refuses gRPC, which it does not speak', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracingOf({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(tracingOf({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })?.protocol).toBe('http/protobuf');
    expect(refusal({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).variable).toBe('OTEL_EXPORTER_OTLP_PROTOCOL');
    expect(refusal({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' }).variable).toBe('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
  });

  it('reads headers and resource attributes as key=value lists with percent-encoded values', () => {
    const tracing = tracingOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=s%3Dcret, x-tenant = blue',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,service.version=1.2.0',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
    expect(tracing).toMatchObject({
      headers: { 'api-key': 's=cret', 'x-tenant': 'blue' },
      resourceAttributes: { 'deployment.environment.name': 'prod', 'service.version': '1.2.0' },
      sampler: { kind: 'parentbased_traceidratio', ratio: 0.1 },
    });
  });

  it('stops start-up on a bad value, naming the variable (and hiding the headers, which hold secrets)', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }).variable).toBe('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(refusal({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' }).variable).toBe('OTEL_TRACES_SAMPLER');
    expect(refusal({ ...endpoint, OTEL_TRACES_SAMPLER_ARG: '1.5' }).variable).toBe('OTEL_TRACES_SAMPLER_ARG');
    expect(refusal({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'novalue' }).variable).toBe('OTEL_RESOURCE_ATTRIBUTES');
    expect(refusal({ ...endpoint, OTEL_BSP_SCHEDULE_DELAY: '0' }).variable).toBe('OTEL_BSP_SCHEDULE_DELAY');
    const headers = refusal({ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'api-key=%zz-secret' });
    expect(headers.variable).toBe('OTEL_EXPORTER_OTLP_HEADERS');
    expect(headers.message).not.toContain('secret');
    const unpaired = refusal({ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'authorization Bearer secret-token' });
    expect(unpaired).toEqual({ variable: 'OTEL_EXPORTER_OTLP_HEADERS', message: expect.stringContaining('item 1 is not key=value') });
    expect(unpaired.message).not.toContain('secret');
  });
});
