/**
 * What the standard OpenTelemetry environment variables ask of tracing, read once and checked: a plain object (it is
 * handed to worker threads in `workerData`), or undefined when tracing is off.
 */
export type TracingSettings = {
  /** The OTLP/HTTP traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`). */
  url: string;
  /** OTEL_EXPORTER_OTLP_HEADERS then OTEL_EXPORTER_OTLP_TRACES_HEADERS (a collector's credentials: never logged). */
  headers: Record<string, string>;
  /** OTEL_SERVICE_NAME, else `service.name` of OTEL_RESOURCE_ATTRIBUTES, else the process's default. */
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES (operator-chosen labels: deployment, region, pod). */
  resourceAttributes: Record<string, string>;
  sampler: { kind: SamplerKind; ratio: number };
  /** OTEL_BSP_*: the batch span processor's bounds (undefined: the SDK's defaults). */
  batch: { scheduledDelayMillis?: number; exportTimeoutMillis?: number; maxQueueSize?: number; maxExportBatchSize?: number };
};

export type SamplerKind = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerKind[] = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/** An OTEL_* variable Veil cannot honour: startup stops, naming the variable, instead of silently tracing otherwise. */
export class TracingSettingsError extends Error {
  readonly code = 'invalid_tracing_settings';
  override readonly name = 'TracingSettingsError';
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

export type ReadTracingSettingsParameters = {
  env: Readonly<Record<string, string | undefined>>;
  /** service.name when the environment names none (`veil-gateway`, `veil-worker`). */
  defaultServiceName: string;
};

/**
 * Tracing is on only when an OTLP endpoint is configured, and off when OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none: an unconfigured Veil sends nothing anywhere. Spans are sent as OTLP/HTTP JSON (the
 * exporter this Node line supports; every collector's otlphttp receiver takes it), so `grpc` is refused as a protocol.
 * @throws TracingSettingsError naming the first variable that is malformed
 */
export function readTracingSettings({ env, defaultServiceName }: ReadTracingSettingsParameters): TracingSettings | undefined {
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporter = get('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter !== undefined && exporter !== 'otlp') throw new TracingSettingsError('OTEL_TRACES_EXPORTER', `"${exporter}" is not supported (otlp or none)`);
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = get(name);
    if (protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf') {
      throw new TracingSettingsError(name, `"${protocol}" is not supported: Veil exports OTLP over HTTP (http/json), point it at the collector's HTTP port (4318)`);
    }
  }
  const specific = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const general = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (specific === undefined && general === undefined) return undefined;
  const url = specific !== undefined
    ? httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific)
    : httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', `${general!.replace(/\/+$/, '')}/v1/traces`);

  const resourceAttributes = keyValues('OTEL_RESOURCE_ATTRIBUTES', get('OTEL_RESOURCE_ATTRIBUTES'));
  const serviceName = get('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? defaultServiceName;
  const headers = { ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', get('OTEL_EXPORTER_OTLP_HEADERS')), ...keyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS', get('OTEL_EXPORTER_OTLP_TRACES_HEADERS')) };

  const kind = (get('OTEL_TRACES_SAMPLER')?.toLowerCase() ?? 'parentbased_always_on') as SamplerKind;
  if (!SAMPLERS.includes(kind)) throw new TracingSettingsError('OTEL_TRACES_SAMPLER', `"${kind}" is not one of ${SAMPLERS.join(', ')}`);
  const arg = get('OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) throw new TracingSettingsError('OTEL_TRACES_SAMPLER_ARG', `must be a number from 0 to 1, got "${arg}"`);

  const count = (name: string, min: number): number | undefined => {
    const text = get(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new TracingSettingsError(name, `must be an integer of at least ${min}, got "${text}"`);
    return value;
  };
  const batch = {
    scheduledDelayMillis: count('OTEL_BSP_SCHEDULE_DELAY', 0),
    exportTimeoutMillis: count('OTEL_BSP_EXPORT_TIMEOUT', 1),
    maxQueueSize: count('OTEL_BSP_MAX_QUEUE_SIZE', 1),
    maxExportBatchSize: count('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1),
  };
  if (batch.maxQueueSize !== undefined && batch.maxExportBatchSize !== undefined && batch.maxExportBatchSize > batch.maxQueueSize) {
    throw new TracingSettingsError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'must not exceed OTEL_BSP_MAX_QUEUE_SIZE');
  }
  return { url, headers, serviceName, resourceAttributes, sampler: { kind, ratio }, batch };
}

function httpUrl(variable: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TracingSettingsError(variable, 'is not a URL (e.g. http://collector:4318)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TracingSettingsError(variable, `must be an http:// or https:// URL, got ${url.protocol}`);
  // Credentials belong in OTEL_EXPORTER_OTLP_HEADERS, never in a URL that ends up in error messages.
  if (url.username || url.password) throw new TracingSettingsError(variable, 'must not embed credentials; send them with OTEL_EXPORTER_OTLP_HEADERS');
  return url.toString();
}

/** `k1=v1,k2=v2` with percent-encoded values (the W3C baggage octet rules the OTel spec uses for both variables). */
function keyValues(variable: string, text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const [index, entry] of text.split(',').entries()) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!key) throw new TracingSettingsError(variable, `entry ${index + 1} is not key=value`);
    try {
      out[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new TracingSettingsError(variable, `entry ${index + 1} (${key}) has a malformed percent-encoding`);
    }
  }
  return out;
}
