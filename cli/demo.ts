import { parseArgs } from 'node:util';
import { CONFIG_SCHEMA } from '../gateway/config';
import { createProgress } from './progress';
import { runFheDemo, type FheDemoReport } from './run-fhe-demo';

export const summary = 'encrypted inference demo against a running gateway';

const DEFAULT_TARGET = `${CONFIG_SCHEMA.grpc.host.default}:${CONFIG_SCHEMA.grpc.port.default}`;

const HELP = `usage: veil demo [--target HOST:PORT] [--model ID] [--latency-samples N] [--json]

Encrypts the model's test split with CKKS on this machine, sends only ciphertexts and evaluation keys to
the gateway, decrypts the answers here, and compares them with plaintext onnxruntime-node inference.
  --target            gateway address (default ${DEFAULT_TARGET}, where \`veil serve\` listens by default)
  --model             breast-cancer-lr (default) or digits-mlp
  --latency-samples   single-sample calls to time (default 100)
  --json              print one JSON object instead of the table`;

export async function run(args: string[]): Promise<number> {
  let values: { target?: string; model?: string; json?: boolean; help?: boolean; 'latency-samples'?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        target: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' },
        'latency-samples': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`veil demo: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const latencySamples = values['latency-samples'] === undefined ? undefined : Number(values['latency-samples']);
  if (latencySamples !== undefined && (!Number.isInteger(latencySamples) || latencySamples < 1)) {
    console.error('veil demo: --latency-samples must be a positive integer');
    return 2;
  }
  const target = values.target ?? DEFAULT_TARGET;
  let report: FheDemoReport;
  try {
    report = await runFheDemo({ target, modelId: values.model ?? 'breast-cancer-lr', latencySamples, progress: createProgress() });
  } catch (err) {
    const e = err as { code?: string | number; message: string };
    const hint = e.code === 'unavailable' ? ` (is \`veil serve\` running at ${target}?)` : '';
    console.error(`veil demo: ${e.message}${hint}`);
    return 1;
  }
  if (values.json) {
    console.log(JSON.stringify(report));
  } else {
    printReport(report);
  }
  return report.encryptedAccuracy === report.plaintextAccuracy ? 0 : 1;
}

function printReport(r: FheDemoReport): void {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const rows: [string, string][] = [
    ['model', `${r.model} (CKKS N=${r.polyModulusDegree}, ${r.batchCapacity} samples per ciphertext)`],
    ['test samples', String(r.samples)],
    ['encrypted accuracy', pct(r.encryptedAccuracy)],
    ['plaintext accuracy', `${pct(r.plaintextAccuracy)} (onnxruntime-node, same ONNX file)`],
    ['max |logit error|', r.maxAbsError.toExponential(2)],
    ['class disagreements', String(r.disagreements)],
    ['single-sample latency', `p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms (${r.latencySamples} calls, encrypt→gRPC→evaluate→decrypt)`],
    ['batched throughput', `${r.batchSamplesPerSecond} samples/s (${r.samples} samples in ${r.batchMs} ms)`],
    ['bytes uploaded', `${(r.bytesUploaded / 1e6).toFixed(2)} MB (keys ${(r.keyBytes / 1e6).toFixed(2)} MB, ${r.ciphertextBytesPerSample} B/sample batched)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}
