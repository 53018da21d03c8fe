/**
 * What TLS adds (issue #9): the same calls through a plaintext and a TLS gateway, side by side in one run.
 *
 *   node bin/run-ts.cjs bench/tls.ts
 *
 * Four gateways run as their own processes (`veil serve`, one FHE worker, one onnxruntime thread), in pairs that
 * differ only in transport security:
 *   - local:  plaintext gateway            vs  TLS gateway (grpc.tlsCertFile/tlsKeyFile), each with its in-process
 *             SIMULATED TEE node;
 *   - remote: plaintext gateway → plaintext `veil worker`  vs  TLS gateway → mutual-TLS `veil worker`
 *             (tee.nodeCaFile + tee.clientCertFile; --tls-cert --tls-key --client-ca): both hops encrypted.
 * Calls alternate between the two members of a pair (ABBA order), so drift on a shared machine falls on both alike.
 * Measured: FHE breast-cancer-lr single sample (the variant the SDK picks for one sample: encrypt → Predict → decrypt), TEE breast-cancer-lr single
 * row (seal → Infer → verify → open, session mode), and a fresh connection's first call (TCP + TLS handshake +
 * ListModels). Certificates: EC P-256, made with the openssl CLI for this run. Writes bench/results/tls.json and .md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { connectFheModel, createVeilClient, type FheModelClient, type VeilClient } from '../client';
import { connectTeeModel, type TeeModelClient, type TeePolicy } from '../client/tee';
import { loadDataset } from '../models';
import { createTestCa } from '../test/support/create-test-pki';
import { startGatewayProcess, type GatewayProcess } from './start-gateway-process';
import { machineInfo, markdownTable, percentile, round, writeBenchReport } from './write-bench-report';

const FHE_CALLS = 300;
const TEE_CALLS = 1500;
const CONNECT_CALLS = 200;
const WARMUP = 20;
const POLICY: TeePolicy = { measurements: 'any', debug: 'forbid', snpMinimumTcb: 'any', tdxTcbStatuses: 'any', maxAgeSeconds: 600 };
const GATEWAY_ENV = { VEIL_CHAIN_ENABLED: 'false', VEIL_FHE_MODELS: 'breast-cancer-lr', VEIL_FHE_WORKERS: '1', VEIL_TEE_LOCAL_THREADS: '1', VEIL_TEE_MODELS: 'breast-cancer-lr' };

type Side = { label: string; target: string; credentials: grpc.ChannelCredentials };

function startWorkerProcess(args: string[]): Promise<{ address: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'veil.cjs'), 'worker', '--port', '0', '--threads', '1', '--models', 'breast-cancer-lr', '--language-models', 'none', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${out}`)));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (\S+)/.exec(out);
      if (!match || !/signing address/.test(out)) return;
      child.removeAllListeners('exit');
      resolve({ address: match[1]!, stop: () => new Promise<void>((done) => (child.once('exit', () => done()), child.kill('SIGTERM'))) });
    });
  });
}

/** The protocol and cipher a client negotiates with the TLS gateway (what the numbers were measured with). */
function negotiatedTls(address: string, ca: Buffer): Promise<string> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, ALPNProtocols: ['h2'] }, () => {
      resolve(`${socket.getProtocol()} ${socket.getCipher().name}`);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** Runs `call(side)` for both sides alternately (A B B A …), returning each side's samples after warm-up. */
async function sideBySide(calls: number, call: (side: 0 | 1) => Promise<void>): Promise<[number[], number[]]> {
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < WARMUP + calls; i++) {
    const order: (0 | 1)[] = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const s of order) {
      const t0 = performance.now();
      await call(s);
      if (i >= WARMUP) samples[s].push(performance.now() - t0);
    }
  }
  return samples;
}

function row(what: string, transport: string, [plain, tls]: [number[], number[]]) {
  const p50 = (v: number[]) => percentile(v, 0.5);
  // Paired: call i of each side ran back to back (ABBA), so their difference cancels the machine's drift; the median
  // of those differences is what TLS adds to one call, far less noisy than the difference of two medians.
  const paired = p50(tls.map((t, i) => t - plain[i]!));
  return {
    path: what,
    transport,
    'plaintext p50 ms': round(p50(plain), 3),
    'TLS p50 ms': round(p50(tls), 3),
    'added ms (median of paired differences)': round(paired, 3),
    'added %': `${round((paired / p50(plain)) * 100, 1)}%`,
    'plaintext p95 ms': round(percentile(plain, 0.95), 3),
    'TLS p95 ms': round(percentile(tls, 0.95), 3),
    calls: plain.length,
  };
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-bench-tls-'));
  const ca = createTestCa(dir, 'bench-ca');
  const gatewayCert = ca.issue('gateway');
  const nodeCert = ca.issue('node');
  const gatewayClient = ca.issue('gateway-client');
  const trust = grpc.credentials.createSsl(fs.readFileSync(ca.certFile));
  const plainCreds = grpc.credentials.createInsecure();
  const tlsEnv = { VEIL_GRPC_TLS_CERT_FILE: gatewayCert.certFile, VEIL_GRPC_TLS_KEY_FILE: gatewayCert.keyFile };

  const stops: (() => Promise<void>)[] = [];
  const rows: ReturnType<typeof row>[] = [];
  let negotiated = '';
  try {
    const start = async (env: Record<string, string>): Promise<GatewayProcess> => {
      const g = await startGatewayProcess({ ...GATEWAY_ENV, ...env });
      stops.push(() => g.stop());
      return g;
    };
    const plainWorker = await startWorkerProcess([]);
    stops.push(() => plainWorker.stop());
    const mtlsWorker = await startWorkerProcess(['--tls-cert', nodeCert.certFile, '--tls-key', nodeCert.keyFile, '--client-ca', ca.certFile]);
    stops.push(() => mtlsWorker.stop());
    const [plainLocal, tlsLocal, plainRemote, tlsRemote] = [
      await start({}),
      await start(tlsEnv),
      await start({ VEIL_TEE_LOCAL: 'false', VEIL_TEE_NODES: plainWorker.address }),
      await start({
        ...tlsEnv, VEIL_TEE_LOCAL: 'false', VEIL_TEE_NODES: mtlsWorker.address,
        VEIL_TEE_NODE_CA_FILE: ca.certFile, VEIL_TEE_CLIENT_CERT_FILE: gatewayClient.certFile, VEIL_TEE_CLIENT_KEY_FILE: gatewayClient.keyFile,
      }),
    ];
    negotiated = await negotiatedTls(tlsLocal.address, fs.readFileSync(ca.certFile));
    const local: [Side, Side] = [{ label: 'plaintext', target: plainLocal.address, credentials: plainCreds }, { label: 'TLS', target: tlsLocal.address, credentials: trust }];
    const remote: [Side, Side] = [{ label: 'plaintext', target: plainRemote.address, credentials: plainCreds }, { label: 'TLS', target: tlsRemote.address, credentials: trust }];

    const { test } = loadDataset('breast-cancer');
    const samples = test.features;

    // FHE, single sample.
    const fheClients: VeilClient[] = local.map((s) => createVeilClient({ target: s.target, credentials: s.credentials }));
    const fhe: FheModelClient[] = [];
    for (const client of fheClients) fhe.push(await connectFheModel({ client, modelId: 'breast-cancer-lr', deadlineMs: 60_000 }));
    let n = 0;
    let variant = '';
    const fheSamples = await sideBySide(FHE_CALLS, async (s) => {
      variant = (await fhe[s]!.predict([samples[n++ % samples.length]!])).variant;
    });
    rows.push(row(`FHE breast-cancer-lr, 1 sample (${variant})`, 'client → gateway', fheSamples));
    for (const m of fhe) await m.close();
    for (const c of fheClients) c.close();

    // TEE, single row, through the in-process node and through a remote worker.
    for (const [pair, transport] of [[local, 'client → gateway (in-process node)'], [remote, 'client → gateway → worker (mTLS)']] as const) {
      const tee: TeeModelClient[] = [];
      for (const s of pair) tee.push(await connectTeeModel({ gateway: s.target, credentials: s.credentials, modelId: 'breast-cancer-lr', policy: POLICY, allowSimulated: true }));
      let k = 0;
      rows.push(row('TEE breast-cancer-lr, 1 row (session)', transport, await sideBySide(TEE_CALLS, async (s) => {
        const r = samples[k++ % samples.length]!;
        await tee[s]!.infer({ x: { dims: [1, r.length], data: Float32Array.from(r) } });
      })));
      for (const m of tee) m.close();
    }

    // A fresh connection's first call: what the TLS handshake costs a client that does not keep its channel.
    rows.push(row('new connection + ListModels', 'client → gateway', await sideBySide(CONNECT_CALLS, async (s) => {
      const client = createVeilClient({ target: local[s].target, credentials: local[s].credentials });
      await client.listModels();
      client.close();
    })));
  } finally {
    for (const stop of stops.reverse()) await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const machine = machineInfo();
  const md = [
    '# TLS benchmark: what transport security adds',
    '',
    `${machine.date} · Node ${machine.node} · ${machine.cores} cores (${machine.cpu}) · client, gateways and workers on the same machine (loopback) · TEE platform SIMULATED`,
    `load average at start ${loadAtStart.map((l) => l.toFixed(1)).join(' / ')}, at end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (a shared machine: absolute times are inflated; the paired differences are the result)`,
    '',
    markdownTable(rows),
    '',
    'Each pair of gateways differs only in transport security; calls alternate between the two (A B B A …) after',
    `${WARMUP} warm-up calls each; "added" is the median over calls of (TLS call − the plaintext call run next to it). TLS: ${negotiated} (grpc-js/Node defaults), EC P-256`,
    'certificates made with openssl for the run. "client → gateway → worker (mTLS)" encrypts both hops: the client↔gateway',
    'link and the gateway↔`veil worker` link (mutual TLS, the worker accepts only the gateway\'s client certificate); its',
    'plaintext twin has both hops plaintext. Channels are kept open between calls (as the SDK does), so the handshake is',
    'paid once per connection; the last row shows that one-time cost (new channel, TCP + TLS handshake, one ListModels).',
  ].join('\n');
  writeBenchReport('tls', { machine, loadAverage: { start: loadAtStart, end: os.loadavg() }, tls: negotiated, calls: { fhe: FHE_CALLS, tee: TEE_CALLS, connect: CONNECT_CALLS, warmup: WARMUP }, rows }, md);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
