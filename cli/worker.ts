import { parseArgs } from 'node:util';
import { createEvidenceProvider, createSimulatedProvider } from '../attestation';
import { createLogger, type LogLevel } from '../gateway';
import { DEFAULT_STREAM_WINDOW_MS } from '../llm';
import { BUNDLED_LANGUAGE_MODELS, BUNDLED_MODELS, resolveModelEntry } from '../models';
import { TlsFilesError } from '../proto';
import { readTracingSettings, startTracing, type TracingSettings } from '../tracing';
import { startTeeLanguageHost, startTeeNodeServer, type TeeEvidenceSource, type TeeLanguageHostMode } from '../workers/tee';
import { loadSimulatedKey } from './load-simulated-key';

export const summary = 'run a remote TEE worker node (veil.v1.TeeNode)';

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const HELP = `usage: veil worker [--host H] [--port P] [--models ID,...] [--language-models ENTRY,...] [--language-host worker|in-process]
                   [--stream-window-ms MS]
                   [--threads N] [--platform simulated|configfs-tsm]
                   [--simulated-key-file FILE] [--tls-cert FILE --tls-key FILE --client-ca FILE] [--max-message-bytes N]
                   [--log-level L]

Runs one TEE worker node as its own process: an enclave identity (HPKE + signing keys in memory only),
a warm onnxruntime pool and evidence from the platform, served as veil.v1.TeeNode (plus health and
reflection). Point a gateway at it with tee.nodes / VEIL_TEE_NODES=HOST:PORT.
  --host        address to bind (default 127.0.0.1)
  --port        port (default 50061; 0 picks a free port, printed on start)
  --models      bundled model ids or .onnx paths (default: ${Object.keys(BUNDLED_MODELS).join(',')})
  --language-models
                chat and embedding models (Hugging Face ONNX export folders): bundled ids, folders (their name is the
                id) or ID=FOLDER; "none" for none (default: ${Object.keys(BUNDLED_LANGUAGE_MODELS).join(',')})
  --language-host
                worker (default: model steps on their own thread) or in-process (on the node's own thread)
  --stream-window-ms
                a streamed completion sends the text generated in each window of MS milliseconds as one event, the
                first token at once (default 16; 0 = one event per token)
  --threads     onnxruntime worker threads (default: cores)
  --platform    simulated (default; development only, proves nothing about hardware) or configfs-tsm
                (SEV-SNP / TDX guest via /sys/kernel/config/tsm/report)
  --simulated-key-file  simulated only: keep the SIMULATED signing key in FILE (PKCS#8 PEM, created with mode 600
                if absent; refused if group or others can access it), so the printed simulated key, which a
                gateway pins in tee.simulatedKeys, stays the same across restarts (default: a new key per start)
  --tls-cert    PEM certificate chain the node serves (mutual TLS; all three TLS flags go together)
  --tls-key     PEM private key of --tls-cert
  --client-ca   PEM CA of the gateway's client certificate (tee.clientCertFile): only clients whose certificate
                chains to it get past the TLS handshake. The files are picked up again when they change.
                Without these flags the node serves plaintext: development only.
  --max-message-bytes
                largest gRPC message in either direction (default ${DEFAULT_MAX_MESSAGE_BYTES}); must equal the gateway's
                tee.maxMessageBytes (VEIL_TEE_MAX_MESSAGE_BYTES): the node reports it and the gateway warns on a mismatch
  --log-level   debug|info|warn|error|silent (default info; logs carry ids, sizes and timings only)

Traces: set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) to send spans over OTLP/HTTP; the
node continues the gateway's trace (W3C traceparent). OTEL_SERVICE_NAME (default veil-worker), OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER(_ARG) and OTEL_EXPORTER_OTLP_HEADERS are honoured. Spans carry routing metadata only.`;

export async function run(args: string[]): Promise<number> {
  let values: {
    host?: string; port?: string; models?: string; threads?: string; platform?: string; 'log-level'?: string; help?: boolean;
    'simulated-key-file'?: string; 'max-message-bytes'?: string; 'language-models'?: string; 'language-host'?: string; 'stream-window-ms'?: string;
    'tls-cert'?: string; 'tls-key'?: string; 'client-ca'?: string;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: 'string' }, port: { type: 'string' }, models: { type: 'string' }, threads: { type: 'string' },
        platform: { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
        'simulated-key-file': { type: 'string' }, 'max-message-bytes': { type: 'string' },
        'language-models': { type: 'string' }, 'language-host': { type: 'string' }, 'stream-window-ms': { type: 'string' },
        'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'client-ca': { type: 'string' },
      },
    }));
  } catch (err) {
    console.error(`veil worker: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(values.port ?? 50061);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const platform = values.platform ?? 'simulated';
  const maxMessageBytes = Number(values['max-message-bytes'] ?? DEFAULT_MAX_MESSAGE_BYTES);
  const level = (values['log-level'] ?? 'info') as LogLevel;
  const problems: string[] = [];
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('--port must be an integer 0..65535');
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) problems.push('--threads must be a positive integer');
  if (platform !== 'simulated' && platform !== 'configfs-tsm') problems.push('--platform must be simulated or configfs-tsm');
  // Same bounds as the gateway's tee.maxMessageBytes, so any value one side accepts the other can match.
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 64 * 1024 || maxMessageBytes > 1024 * 1024 * 1024) {
    problems.push('--max-message-bytes must be an integer from 65536 to 1073741824');
  }
  if (values['simulated-key-file'] !== undefined && platform !== 'simulated') problems.push('--simulated-key-file goes with --platform simulated only');
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level)) problems.push('--log-level must be debug, info, warn, error or silent');
  const models: Record<string, string> = {};
  for (const entry of (values.models ?? Object.keys(BUNDLED_MODELS).join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    const resolved = resolveModelEntry(entry);
    if ('error' in resolved) problems.push(`--models: ${resolved.error}`);
    else models[resolved.id] = resolved.file;
  }
  const languageEntries = (values['language-models'] ?? Object.keys(BUNDLED_LANGUAGE_MODELS).join(',')).split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  const languageHost = values['language-host'] ?? 'worker';
  if (languageHost !== 'worker' && languageHost !== 'in-process') problems.push('--language-host must be worker or in-process');
  const streamWindowMs = Number(values['stream-window-ms'] ?? DEFAULT_STREAM_WINDOW_MS);
  if (!/^\d{1,4}$/.test(values['stream-window-ms'] ?? '0') || streamWindowMs > 1000) problems.push('--stream-window-ms must be an integer 0..1000');
  if (Object.keys(models).length === 0 && languageEntries.length === 0) problems.push('--models: at least one model is required');
  const tlsFlags = [values['tls-cert'], values['tls-key'], values['client-ca']];
  const tls = tlsFlags.every((f) => f !== undefined) ? { certFile: values['tls-cert']!, keyFile: values['tls-key']!, clientCaFile: values['client-ca']! } : undefined;
  // A node serving TLS without checking clients would let anyone who reaches it call it: mutual TLS or nothing.
  if (!tls && tlsFlags.some((f) => f !== undefined)) problems.push('mutual TLS needs --tls-cert, --tls-key and --client-ca together');
  let tracingSettings: TracingSettings | undefined;
  try {
    tracingSettings = readTracingSettings({ env: process.env, defaultServiceName: 'veil-worker' });
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length > 0) {
    console.error(`veil worker: ${problems.join('\nveil worker: ')}`);
    return 2;
  }
  // Before anything serves, so the first call is traced; stopped last, so the last spans are sent.
  const tracing = tracingSettings && startTracing({ settings: tracingSettings });

  let simulated: ReturnType<typeof createSimulatedProvider> | undefined;
  if (platform === 'simulated') {
    const keyFile = values['simulated-key-file'];
    try {
      simulated = createSimulatedProvider(keyFile ? { privateKey: loadSimulatedKey(keyFile).privateKey } : {});
    } catch (err) {
      console.error(`veil worker: ${(err as Error).message}`);
      return 2;
    }
  }
  const logger = createLogger({ level, format: 'text' });
  const evidenceSource: TeeEvidenceSource = simulated ?? (createEvidenceProvider({ kind: 'configfs-tsm' }) as TeeEvidenceSource);
  let server;
  let host;
  try {
    host = await startTeeLanguageHost({ entries: languageEntries, mode: languageHost as TeeLanguageHostMode, streamWindowMs });
  } catch (err) {
    await tracing?.shutdown();
    console.error(`veil worker: --language-models: ${(err as Error).message}`);
    return 2;
  }
  try {
    server = await startTeeNodeServer({
      host: values.host ?? '127.0.0.1', port, pool: { models, threads }, languageHost: host, evidenceSource, logger, tls, maxMessageBytes,
      onTlsReload: (e) => (e.accepted
        ? logger.info('tls certificate reloaded', { fingerprint256: e.fingerprint256 })
        : logger.error('tls files changed but cannot be used; still serving the previous certificate', { reason: e.reason })),
    });
  } catch (err) {
    await host?.close();
    await tracing?.shutdown();
    if (!(err instanceof TlsFilesError)) throw err;
    console.error(`veil worker: ${err.message}`);
    return 2;
  }
  const { node } = server;
  // Tests and scripts parse this first line for the bound address.
  console.log(`veil worker listening on ${server.address} (veil.v1.TeeNode; health and reflection enabled)`);
  console.log(tls
    ? `  transport        mutual TLS (serving ${server.tls!.fingerprint256}; clients must chain to ${tls.clientCaFile})`
    : '  transport        PLAINTEXT — anyone who reaches this port may call it; development only');
  console.log(platform === 'simulated'
    ? '  platform         SIMULATED — evidence proves nothing about hardware; development only'
    : `  platform         ${node.platform} (configfs-tsm)`);
  console.log(`  signing address  ${node.identity.signingAddress}`);
  // The public verifier key a gateway must pin (tee.simulatedKeys) to admit this node: an envelope's own key is never trusted.
  if (simulated) console.log(`  simulated key    ${Buffer.from(simulated.verifierKey).toString('hex')}  (pin on the gateway: tee.simulatedKeys / VEIL_TEE_SIMULATED_KEYS)`);
  console.log(`  models           ${Object.keys(models).join(', ') || '(none)'}`);
  console.log(`  language models  ${host ? host.models.map((m) => `${m.id} (${m.kind}, ${m.contextLength} tokens)`).join(', ') : '(none)'}${host ? `, host: ${languageHost}` : ''}`);
  console.log(`  max message      ${maxMessageBytes} bytes (the gateway's tee.maxMessageBytes must match)`);
  console.log(`  traces           ${tracingSettings ? `${tracingSettings.url} as ${tracingSettings.serviceName}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('shutting down', { signal });
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      void server.close().then(() => tracing?.shutdown()).then(resolve);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  return 0;
}
