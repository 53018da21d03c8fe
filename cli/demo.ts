import fs from 'node:fs';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { CONFIG_SCHEMA } from '../gateway/config';
import type { ChannelPayer, GatewayPayer } from '../client';
import { connectDemoPayer } from './connect-demo-payer';
import { createProgress } from './progress';
import { runFheDemo, type FheDemoReport } from './run-fhe-demo';
import { readFeatureCsv, runTeeDemo, type TeeDemoReport } from './run-tee-demo';
import { runChatDemo, type ChatDemoReport } from './run-chat-demo';

export const summary = 'encrypted (FHE), attested-TEE or private chat (TEE language model) demo against a running gateway';

const DEFAULT_TARGET = `${CONFIG_SCHEMA.grpc.host.default}:${CONFIG_SCHEMA.grpc.port.default}`;

const HELP = `usage: veil demo [--mode fhe|tee|both|chat] [--target HOST:PORT] [--model ID] [--input FILE.csv] [--latency-samples N] [--json]
                 [--prompt TEXT] [--max-tokens N] [--api-key KEY] [--tls-ca FILE]

--mode fhe (default): encrypts the model's test split with CKKS on this machine, sends only ciphertexts and
evaluation keys to the gateway, decrypts the answers here, and compares them with plaintext onnxruntime-node.
--mode tee: fetches a TEE node's evidence through the gateway, verifies it here, seals the rows to that
node's attested key, checks every signed receipt, opens the answers here, and compares with plaintext.
--mode both: the cross-check — sends the same test split through FHE and through an attested TEE node and reports
how often the two encrypted paths agree with each other and with plaintext (exit 1 if they disagree on more than 1 %).
--mode chat: attests the node serving a chat model (default toy-chat-kjv, a toy trained on the KJV Bible), seals a
chat request to it, streams the reply as it is generated (every event authenticated here) and verifies the
stream's signed receipt, then prints what was attested.
  --target            gateway address (default ${DEFAULT_TARGET}, where \`veil serve\` listens by default)
  --model             breast-cancer-lr (default; alias lr), digits-mlp (alias digits), digits-cnn (a convolutional net,
                      both modes by default), or digits-relu-mlp (FHE only when the gateway serves it: fhe.models /
                      VEIL_FHE_MODELS; its Relus are calibrated approximations)
  --input             (tee) CSV of feature rows instead of the test split: one row per line, comma-separated
                      numbers (30 for breast-cancer-lr, 64 for the digits models), an optional header line of
                      column names; no quotes, no empty cells (a bad file exits 2 naming its line and column)
  --latency-samples   single-sample calls to time (default 100)
  --prompt            (chat) the user message (default "In the beginning")
  --max-tokens        (chat) most tokens to generate (default 48)
  --json              print one JSON object instead of the table
  --api-key           API key for a gateway with auth.mode=api-keys (default: VEIL_API_KEY; prefer the variable:
                      command lines are visible to other users of the machine)
  --tls-ca            connect over TLS, trusting this PEM CA (for a gateway with grpc.tlsCertFile set)`;

export async function run(args: string[]): Promise<number> {
  let values: {
    target?: string; model?: string; json?: boolean; help?: boolean; 'latency-samples'?: string; mode?: string; input?: string;
    'api-key'?: string; 'tls-ca'?: string; prompt?: string; 'max-tokens'?: string;
  };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        target: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' },
        'latency-samples': { type: 'string' }, help: { type: 'boolean', short: 'h' }, mode: { type: 'string' }, input: { type: 'string' },
        'api-key': { type: 'string' }, 'tls-ca': { type: 'string' }, prompt: { type: 'string' }, 'max-tokens': { type: 'string' },
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
  const mode = values.mode ?? 'fhe';
  if (mode !== 'fhe' && mode !== 'tee' && mode !== 'both' && mode !== 'chat') {
    console.error('veil demo: --mode must be fhe, tee, both or chat');
    return 2;
  }
  const maxTokens = Number(values['max-tokens'] ?? 48);
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    console.error('veil demo: --max-tokens must be a positive integer');
    return 2;
  }
  const model = mode === 'chat' ? (values.model ?? 'toy-chat-kjv') : resolveDemoModel(values.model);
  const apiKey = values['api-key'] ?? (process.env.VEIL_API_KEY || undefined);
  let credentials: grpc.ChannelCredentials | undefined;
  if (values['tls-ca'] !== undefined) {
    try {
      credentials = grpc.credentials.createSsl(fs.readFileSync(values['tls-ca']));
    } catch (err) {
      console.error(`veil demo: --tls-ca ${values['tls-ca']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return 2;
    }
  }
  if (values.input !== undefined && mode === 'both') {
    console.error('veil demo: --mode both runs the model\'s test split (its labels are the ground truth); --input goes with --mode tee');
    return 2;
  }
  if (values.input !== undefined && mode !== 'tee') {
    console.error('veil demo: --input is supported with --mode tee only');
    return 2;
  }
  let rows: number[][] | undefined;
  try {
    rows = values.input === undefined ? undefined : readFeatureCsv(values.input, model);
  } catch (err) {
    console.error(`veil demo: ${(err as Error).message}`);
    return 2;
  }
  const connection: Connection = { apiKey, credentials };
  try {
    // A gateway that charges (payments are on by default on its embedded dev chain) is paid from dev account 1.
    const paying = await connectDemoPayer(target, connection);
    if (paying) Object.assign(connection, { payer: paying.payer, paying });
  } catch (err) {
    return demoFailed(err, target);
  }
  if (mode === 'tee') return runTee(target, model, rows, latencySamples, values.json ?? false, connection);
  if (mode === 'chat') return runChat(target, model, values.prompt ?? 'In the beginning', maxTokens, values.json ?? false, connection);
  if (mode === 'both') return runBoth(target, model, latencySamples, values.json ?? false, connection);
  let report: FheDemoReport;
  try {
    report = await runFheDemo({ target, modelId: model, latencySamples, progress: createProgress(), ...connection });
  } catch (err) {
    return demoFailed(err, target);
  }
  if (values.json) {
    console.log(JSON.stringify(withPaid(report, connection)));
  } else {
    printReport(report, paidRows(connection));
  }
  return report.encryptedAccuracy === report.plaintextAccuracy ? 0 : 1;
}

function printReport(r: FheDemoReport, extra: [string, string][]): void {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const rows: [string, string][] = [
    ['model', `${r.model} (CKKS N=${r.polyModulusDegree}; variants used: ${r.singleVariant} for single samples, ${r.batchVariant} for the batch)`],
    ['test samples', String(r.samples)],
    ['encrypted accuracy', pct(r.encryptedAccuracy)],
    ['plaintext accuracy', `${pct(r.plaintextAccuracy)} (onnxruntime-node, same ONNX file)`],
    ['max |logit error|', r.maxAbsError.toExponential(2)],
    ['class disagreements', String(r.disagreements)],
    ['single-sample latency', `p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms (${r.latencySamples} calls after warm-up, encrypt→gRPC→evaluate→decrypt)`],
    ['batched throughput', `${r.batchSamplesPerSecond} samples/s (${r.samples} samples in ${r.batchMs} ms)`],
    ['bytes uploaded', `${(r.bytesUploaded / 1e6).toFixed(2)} MB (keys ${(r.keyBytes / 1e6).toFixed(2)} MB, ${r.ciphertextBytesPerSample} B/sample batched)`],
    ...extra,
  ];
  printRows(rows);
}

type Connection = { apiKey?: string; credentials?: grpc.ChannelCredentials; payer?: ChannelPayer; paying?: GatewayPayer };

/** What the demo paid (confirmed by the gateway's receipts), for the JSON report. */
function withPaid<T extends object>(report: T, connection: Connection): T & { paid?: { amount: string; channel: string; payer: string } } {
  if (!connection.paying) return report;
  const status = connection.paying.payer.status();
  return { ...report, paid: { amount: String(status.confirmed), channel: status.channelId, payer: connection.paying.describe } };
}

/** The paid row of a table report: what the gateway's receipts charged, from which wallet, on which channel. */
function paidRows(connection: Connection): [string, string][] {
  if (!connection.paying) return [];
  const status = connection.paying.payer.status();
  const vusd = (Number(status.confirmed) / 1e6).toFixed(6);
  return [['paid', `${status.confirmed} token units (${vusd} vUSD), every receipt settled — ${connection.paying.describe}, channel ${status.channelId.slice(0, 10)}…`]];
}

async function runTee(target: string, modelId: string, rows: number[][] | undefined, latencySamples: number | undefined, json: boolean, connection: Connection): Promise<number> {
  let report: TeeDemoReport;
  try {
    report = await runTeeDemo({ target, modelId, rows, latencySamples, progress: json ? undefined : createProgress(), ...connection });
  } catch (err) {
    return demoFailed(err, target);
  }
  if (json) {
    console.log(JSON.stringify(withPaid(report, connection)));
  } else {
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
    const rows: [string, string][] = [
      ...attestedRows(report, 'TEE'),
      ['signatures', report.signatureValid ? 'valid (every response: EIP-191 over sha256 of the sealed request and response)' : 'INVALID'],
      ['rows', String(report.samples)],
      ['outputs', report.outputs.slice(0, 5).map((o) => `[${o.map((v) => v.toFixed(4)).join(', ')}]`).join(' ') + (report.samples > 5 ? ' …' : '')],
      ['TEE accuracy', `${pct(report.teeAccuracy)} (plaintext onnxruntime-node: ${pct(report.plaintextAccuracy)}; max |diff| ${report.maxAbsError?.toExponential(2) ?? 'n/a'})`],
      ['single-row latency', `p50 ${report.p50Ms} ms, p95 ${report.p95Ms} ms (${report.latencySamples} calls, seal→gateway→node→verify→open)`],
      ...paidRows(connection),
    ];
    printRows(rows);
  }
  return report.signatureValid ? 0 : 1;
}

async function runChat(target: string, modelId: string, prompt: string, maxTokens: number, json: boolean, connection: Connection): Promise<number> {
  let report: ChatDemoReport;
  try {
    if (!json) process.stdout.write(`prompt  ${prompt}\nreply   `);
    report = await runChatDemo({
      target, modelId, prompt, maxTokens, ...connection,
      onDelta: json ? undefined : (text) => process.stdout.write(text.replace(/\n/g, '\n        ')),
    });
    if (!json) process.stdout.write('\n\n');
  } catch (err) {
    if (!json) process.stdout.write('\n');
    return demoFailed(err, target);
  }
  if (json) {
    console.log(JSON.stringify(withPaid(report, connection)));
  } else {
    const rows: [string, string][] = [
      ...attestedRows(report, 'TEE language model'),
      ['receipt', report.receipt ? `valid — EIP-191 over the sealed request and all ${report.receipt.events} sealed events (${report.receipt.text.slice(0, 40)}…)` : 'MISSING'],
      ['finish', `${report.finishReason ?? 'none'}; ${report.usage ? `${report.usage.prompt_tokens} prompt + ${report.usage.completion_tokens} completion tokens` : 'no usage'}`],
      ['timing', `first token ${report.timeToFirstTokenMs} ms, whole reply ${report.totalMs} ms (seal → gateway → node → verify → open)`],
      ...paidRows(connection),
    ];
    printRows(rows);
  }
  return report.receipt ? 0 : 1;
}

/** Agreement of two class assignments of the same rows. */
const agreement = (a: readonly number[], b: readonly number[]) => (a.length === 0 ? 0 : a.filter((c, i) => c === b[i]).length / a.length);

/**
 * `--mode both`: the same test rows through FHE (CKKS, decrypted here) and through an attested TEE node (sealed, every
 * receipt checked), then how often the two private paths agree with each other and with plaintext onnxruntime-node.
 * No other private-inference system can run this check: it needs both kinds of privacy behind one API.
 */
async function runBoth(target: string, modelId: string, latencySamples: number | undefined, json: boolean, connection: Connection): Promise<number> {
  let fhe: FheDemoReport;
  let tee: TeeDemoReport;
  try {
    fhe = await runFheDemo({ target, modelId, latencySamples, progress: json ? undefined : createProgress(), ...connection });
    tee = await runTeeDemo({ target, modelId, latencySamples, progress: json ? undefined : createProgress(), ...connection });
  } catch (err) {
    return demoFailed(err, target);
  }
  const report = {
    mode: 'both', model: modelId, target, samples: fhe.samples,
    fheVsTee: agreement(fhe.classes, tee.classes),
    fheVsPlaintext: agreement(fhe.classes, fhe.plaintextClasses),
    teeVsPlaintext: agreement(tee.classes, fhe.plaintextClasses),
    fheAccuracy: fhe.encryptedAccuracy, teeAccuracy: tee.teeAccuracy, plaintextAccuracy: fhe.plaintextAccuracy,
    teeSignaturesValid: tee.signatureValid, teeNode: tee.nodeId, teeSimulated: tee.simulated,
    fheP50Ms: fhe.p50Ms, teeP50Ms: tee.p50Ms,
  };
  if (json) console.log(JSON.stringify(withPaid(report, connection)));
  else {
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
    printRows([
      ['model', `${modelId}: ${report.samples} test rows through FHE (CKKS N=${fhe.polyModulusDegree}) and TEE (node ${tee.nodeId}${tee.simulated ? ', SIMULATED' : `, ${tee.platform}`})`],
      ['FHE vs TEE', `${pct(report.fheVsTee)} of rows get the same class`],
      ['FHE vs plaintext', pct(report.fheVsPlaintext)],
      ['TEE vs plaintext', pct(report.teeVsPlaintext)],
      ['accuracy', `FHE ${pct(report.fheAccuracy)}, TEE ${pct(report.teeAccuracy)}, plaintext ${pct(report.plaintextAccuracy)}`],
      ['TEE receipts', tee.signatureValid ? 'every one valid' : 'INVALID'],
      ['single-row p50', `FHE ${fhe.p50Ms} ms, TEE ${tee.p50Ms} ms`],
      ...paidRows(connection),
    ]);
  }
  return tee.signatureValid && report.fheVsTee >= 0.99 ? 0 : 1;
}

/** What the client attested, the same rows for every TEE demo. */
function attestedRows(r: Pick<TeeDemoReport, 'model' | 'nodeId' | 'target' | 'evidenceVerdict' | 'simulated' | 'platform' | 'measurement' | 'signingAddress'>, kind: string): [string, string][] {
  return [
    ['model', `${r.model} (${kind}, node ${r.nodeId} via ${r.target})`],
    ['evidence', `${r.evidenceVerdict} — verified on this machine for a fresh nonce, binding the node's HPKE key and signing address`],
    ['platform', r.simulated ? 'SIMULATED, self-signed — proves nothing about hardware (development only)' : r.platform],
    ['measurement', r.measurement],
    ['signing address', r.signingAddress],
  ];
}

/** A failed demo: the code and safe message, with a hint when nothing answered at the target. Exit code 1. */
function demoFailed(err: unknown, target: string): number {
  const e = err as { code?: string | number; message: string };
  const hint = e.code === 'unavailable' ? ` (is \`veil serve\` running at ${target}?)` : '';
  console.error(`veil demo: ${e.code ? `[${e.code}] ` : ''}${e.message}${hint}`);
  return 1;
}

/** A two-column report: labels padded to one width. */
function printRows(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

/** Short names people type (`digits`, `lr`) for the bundled model ids; anything else passes through unchanged. */
const MODEL_ALIASES: Record<string, string> = { digits: 'digits-mlp', lr: 'breast-cancer-lr', 'breast-cancer': 'breast-cancer-lr', 'digits-relu': 'digits-relu-mlp' };

export function resolveDemoModel(name: string | undefined): string {
  if (name === undefined) return 'breast-cancer-lr';
  return MODEL_ALIASES[name] ?? name;
}
