import { readTracingSettings, TracingSettingsError } from './read-tracing-settings';

const read = (env: Record<string, string>) => readTracingSettings({ env, defaultServiceName: 'veil-gateway' });

test('off unless an OTLP endpoint is set, and off when disabled or the exporter is none', () => {
  expect(read({})).toBeUndefined();
  expect(read({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
});

test('the general endpoint gets /v1/traces; the traces endpoint is used as is and wins', () => {
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })!.url).toBe('http://collector:4318/v1/traces');
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces' })!.url).toBe('https://b/otlp/traces');
});

test('service name, resource attributes, headers, sampler and batch bounds', () => {
  const settings = read({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
    OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod,team=a%20b',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20x,x-a=1',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  })!;
  expect(settings.serviceName).toBe('from-attrs');
  expect(settings.resourceAttributes).toEqual({ 'service.name': 'from-attrs', 'deployment.environment': 'prod', team: 'a b' });
  expect(settings.headers).toEqual({ authorization: 'Bearer x', 'x-a': '2' });
  expect(settings.sampler).toEqual({ kind: 'parentbased_traceidratio', ratio: 0.25 });
  expect(settings.batch).toEqual({ scheduledDelayMillis: 200, exportTimeoutMillis: undefined, maxQueueSize: undefined, maxExportBatchSize: undefined });
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'gw-1', OTEL_RESOURCE_ATTRIBUTES: 'service.name=no' })!.serviceName).toBe('gw-1');
  expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })!).toMatchObject({ serviceName: 'veil-gateway', sampler: { kind: 'parentbased_always_on', ratio: 1 } });
});

test.each([
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/v1/traces' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:pw@c:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
  [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_BSP_SCHEDULE_DELAY: '-1' }, 'OTEL_BSP_SCHEDULE_DELAY'],
])('%j is refused naming %s', (env, variable) => {
  let error: unknown;
  try {
    read(env as Record<string, string>);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(TracingSettingsError);
  expect(error).toMatchObject({ code: 'invalid_tracing_settings', variable });
});

test('a malformed header never echoes its value (it may be a credential)', () => {
  expect(() => read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=%E0%A4%A-secret' })).toThrow(/entry 1 \(authorization\)/);
  expect(() => read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=%E0%A4%A-secret' })).not.toThrow(/secret/);
});
