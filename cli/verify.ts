/**
 * `veil verify`: verify attestation evidence offline at an explicit time.
 *
 *   veil verify ENVELOPE.json [--policy FILE] [--at TIME] [--collateral FILE|DIR] [--json]
 *   veil verify --platform sev-snp --report FILE --vcek FILE|--vlek FILE   [...]
 *   veil verify --platform tdx     --quote FILE [--collateral FILE|DIR] [...]
 *   veil verify --platform nitro   --document FILE  [...]
 *
 * Exit codes: 0 valid, 1 invalid, 2 usage error (bad flags, unreadable files, invalid policy JSON).
 */
import { readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CONFIG_SCHEMA } from '../gateway/config';
import { OnchainRegistryRefused, OnchainUsageError, runOnchainVerify, type OnchainVerifyReport } from './verify-onchain';
import {
  collateralFromPcsResponses,
  isAttestationError,
  parseEnvelope,
  parsePolicy,
  parseTdxCollateral,
  verifyEvidence,
  type AttestationClaims,
  type AttestationEnvelope,
  type AttestationPolicy,
  type TdxCollateral,
  type SimulatedTrust,
  type UnboundEvidence,
  type VerifyEvidenceResult,
} from '../attestation';

const DEFAULT_TARGET = `${CONFIG_SCHEMA.grpc.host.default}:${CONFIG_SCHEMA.grpc.port.default}`;

export const summary = 'verify attestation evidence offline at an explicit time (and against the on-chain registry)';

const USAGE = `usage:
  veil verify ENVELOPE.json [options]
  veil verify --platform sev-snp --report REPORT (--vcek VCEK | --vlek VLEK) [options]
  veil verify --platform tdx --quote QUOTE [--collateral FILE|DIR] [options]
  veil verify --platform nitro --document DOCUMENT [options]
  veil verify --onchain [--target HOST:PORT] (--rpc URL --registry ADDR | --trust-gateway-registry) [ENVELOPE.json] [options]

options:
  --at TIME            verify at this ISO 8601 time (default: now; the time used is always printed)
  --policy FILE        policy JSON (see attestation/README.md); default: the CLI default policy
  --collateral PATH    TDX collateral: dcap-qvl JSON file, canonical JSON, or a folder of Intel PCS
                       responses (tcb_info_response.json, qe_identity_response.json, tcb_signing_chain.pem,
                       optional pck_crl*.der, pck_crl_issuer_chain.pem, root_ca_crl.der)
  --json               print one JSON object {verdict, platform, measurement, reasons, at, ...}
  --onchain            also check the on-chain registry: the enclave's signing address is attested with an
                       approved, unrevoked, unexpired measurement and the published evidence hash matches.
                       Without an envelope file, checks every TEE enclave the gateway (--target) attested.
  --target HOST:PORT   gateway whose enclaves --onchain checks (default ${DEFAULT_TARGET})
  --rpc URL --registry ADDR  the chain and registry to check against, from your own records (required: the
                       gateway being checked could name a registry it controls)
  --trust-gateway-registry  instead take the registry the gateway names (explicit opt-in)
  --allow-simulated    accept SIMULATED evidence, and a development registry (the gateway's embedded anvil, or
                       chain id 31337/1337): development only, it proves nothing about hardware
  --simulated-key KEY  a pinned SIMULATED verifier key (hex SPKI DER as \`veil worker\` prints it, or a PEM/DER
                       file); repeatable. SIMULATED evidence verifies only against pinned keys
  --accept-self-signed accept the SIMULATED verifier key carried in the envelope itself: anyone can make one, so
                       the verdict then proves only that the evidence is internally consistent (it says SELF-SIGNED)
  -h, --help           show this help

Raw files may be binary, hex text or base64 text. Certificates may be DER or PEM.
Exit codes: 0 valid, 1 invalid, 2 usage error.`;

/**
 * The policy used without --policy: cryptographic checks plus "no debug TEEs" and "TDX TCB up to date
 * (or SW hardening needed)". It does NOT pin a measurement — pass --policy for that.
 */
export function cliDefaultPolicy(bound: boolean): AttestationPolicy {
  return {
    measurements: 'any',
    debug: 'forbid',
    snpMinimumTcb: 'any',
    tdxTcbStatuses: ['UpToDate', 'SWHardeningNeeded'],
    maxAgeSeconds: 'any',
    nonce: 'any',
    reportDataBinding: bound ? 'required' : 'any',
    simulated: 'forbid',
  };
}

export class UsageError extends Error {}

/** Binary, or hex / base64 text (the vectors ship `.hex` and `.b64` files). */
function readArtifact(file: string): Uint8Array {
  const raw = readFile(file);
  const text = raw.toString('latin1').trim();
  if (text.length > 0 && /^[\x20-\x7e\r\n\t]+$/.test(text) && !text.startsWith('-----BEGIN')) {
    const compact = text.replace(/\s+/g, '');
    if (/^([0-9a-fA-F]{2})+$/.test(compact)) return new Uint8Array(Buffer.from(compact, 'hex'));
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return new Uint8Array(Buffer.from(compact, 'base64'));
  }
  return new Uint8Array(raw);
}

function readFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
}

function certificateBase64(file: string): string {
  try {
    return new X509Certificate(readFile(file)).raw.toString('base64');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${file} is not an X.509 certificate (DER or PEM)`);
  }
}

function loadCollateral(p: string): TdxCollateral {
  if (!existsSync(p)) throw new UsageError(`cannot read ${p}`);
  if (!statSync(p).isDirectory()) return parseTdxCollateral(readFile(p).toString('utf8'));
  const f = (name: string) => path.join(p, name);
  const opt = (...names: string[]) => names.map(f).find((n) => existsSync(n));
  const tcbChain = readFile(f('tcb_signing_chain.pem')).toString('utf8');
  const pckCrl = opt('pck_crl_platform.der', 'pck_crl_processor.der', 'pck_crl.der');
  const pckChain = opt('pck_crl_issuer_chain.pem');
  const rootCrl = opt('root_ca_crl.der');
  const qeChain = opt('qe_identity_issuer_chain.pem');
  return collateralFromPcsResponses({
    tcbInfoResponse: readFile(f('tcb_info_response.json')).toString('utf8'),
    qeIdentityResponse: readFile(f('qe_identity_response.json')).toString('utf8'),
    tcbInfoIssuerChain: tcbChain,
    ...(qeChain ? { qeIdentityIssuerChain: readFile(qeChain).toString('utf8') } : {}),
    ...(pckCrl ? { pckCrl: new Uint8Array(readFile(pckCrl)) } : {}),
    ...(pckChain ? { pckCrlIssuerChain: readFile(pckChain).toString('utf8') } : {}),
    ...(rootCrl ? { rootCaCrl: new Uint8Array(readFile(rootCrl)) } : {}),
  });
}

function need(value: string | undefined, flag: string, platform: string): string {
  if (!value) throw new UsageError(`--platform ${platform} needs ${flag}`);
  return value;
}

function evidenceFromFlags(v: Record<string, string | string[] | boolean | undefined>): UnboundEvidence {
  const platform = v.platform as string;
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  switch (platform) {
    case 'sev-snp': {
      // The report's signer flags say which key signed it; the flag only names the certificate the user has.
      const evidence = b64(readArtifact(need(v.report as string, '--report', platform)));
      if (v.vcek && v.vlek) throw new UsageError('give --vcek or --vlek, not both');
      return { version: 1, platform, evidence, certificates: [certificateBase64(need((v.vcek ?? v.vlek) as string | undefined, '--vcek (or --vlek)', platform))] };
    }
    case 'tdx':
      return { version: 1, platform, evidence: b64(readArtifact(need(v.quote as string, '--quote', platform))) };
    case 'nitro':
      return { version: 1, platform, evidence: b64(readArtifact(need(v.document as string, '--document', platform))) };
    default:
      throw new UsageError(`--platform must be sev-snp, tdx or nitro (got "${platform}")`);
  }
}

/** What a SIMULATED verdict is worth, said plainly. */
function simulatedNote(claims: AttestationClaims): string {
  const source = claims.details.platform === 'simulated' ? claims.details.verifierKeySource : 'none';
  if (source === 'envelope') return 'SIMULATED, SELF-SIGNED — verified only with the key inside the evidence, which anyone can make; not hardware evidence';
  if (source === 'pinned') return 'SIMULATED — signed by a pinned development key; not hardware evidence';
  return 'SIMULATED — not hardware evidence';
}

/** `--simulated-key` values (hex SPKI DER, or a PEM / DER / hex / base64 file) and `--accept-self-signed`. */
export function simulatedTrust(v: { 'simulated-key'?: string[]; 'accept-self-signed'?: boolean }): SimulatedTrust | undefined {
  const keys = v['simulated-key'] ?? [];
  if (keys.length > 0 && v['accept-self-signed']) throw new UsageError('give --simulated-key or --accept-self-signed, not both');
  if (v['accept-self-signed']) return 'self-signed';
  if (keys.length === 0) return undefined;
  return keys.map((k) => {
    try {
      if (/^(0x)?([0-9a-fA-F]{2})+$/.test(k)) return spki(createPublicKey({ key: Buffer.from(k.replace(/^0x/i, ''), 'hex'), format: 'der', type: 'spki' }));
      const raw = readFile(k);
      return spki(raw.toString('latin1').startsWith('-----BEGIN') ? createPublicKey(raw) : createPublicKey({ key: Buffer.from(readArtifact(k)), format: 'der', type: 'spki' }));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--simulated-key ${k.length > 20 ? `${k.slice(0, 20)}…` : k} is not a public key (hex SPKI DER, or a PEM/DER file)`);
    }
  });
}

const spki = (key: KeyObject) => new Uint8Array(key.export({ format: 'der', type: 'spki' }));

function describe(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function printHuman(res: VerifyEvidenceResult, atNote: string, policyNote: string): void {
  const claims = res.ok ? res.claims : res.unverifiedClaims;
  const lines = [`veil verify: ${res.ok ? 'VALID' : 'INVALID'}`, `  platform     ${res.platform}${claims?.simulated ? ` (${simulatedNote(claims)})` : ''}`];
  if (claims) lines.push(`  measurement  ${claims.measurement}${res.ok ? '' : ' (unverified)'}`);
  if (claims?.tcb.platform === 'tdx' && claims.tcb.status) lines.push(`  tcb status   ${claims.tcb.status}`);
  if (claims?.tcb.platform === 'sev-snp') {
    const t = claims.tcb.reported;
    lines.push(`  tcb          bl=${t.bootloader} tee=${t.tee} snp=${t.snp} ucode=${t.microcode}${t.fmc !== undefined ? ` fmc=${t.fmc}` : ''}`);
  }
  lines.push(`  verified at  ${res.at} (${atNote})`, `  policy       ${policyNote}`);
  if (!res.ok) {
    lines.push('  reasons:');
    for (const f of res.failures) {
      const av = f.actual !== undefined || f.expected !== undefined ? ` (actual ${describe(f.actual)}, expected ${describe(f.expected)})` : '';
      lines.push(`    - ${f.code}: ${f.message}${av}`);
    }
  }
  console.log(lines.join('\n'));
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        platform: { type: 'string' },
        report: { type: 'string' },
        vcek: { type: 'string' },
        vlek: { type: 'string' },
        quote: { type: 'string' },
        document: { type: 'string' },
        collateral: { type: 'string' },
        at: { type: 'string' },
        policy: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        onchain: { type: 'boolean' },
        target: { type: 'string' },
        rpc: { type: 'string' },
        registry: { type: 'string' },
        'allow-simulated': { type: 'boolean' },
        'trust-gateway-registry': { type: 'boolean' },
        'simulated-key': { type: 'string', multiple: true },
        'accept-self-signed': { type: 'boolean' },
      },
    });
  } catch (err) {
    console.error(`veil verify: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (positionals.length > 1) throw new UsageError('give at most one envelope file');
    if (positionals.length === 1 && v.platform) throw new UsageError('give either an envelope file or --platform with raw artifacts, not both');
    if (v.onchain) return await runOnchain(v, positionals[0]);
    if (positionals.length === 0 && !v.platform) throw new UsageError('nothing to verify');

    let now: Date;
    let atNote: string;
    if (v.at !== undefined) {
      now = parseAt(v.at);
      atNote = 'from --at';
    } else {
      now = new Date(); // the CLI is the one place allowed to read the clock
      atNote = 'current time; pass --at to verify at another time';
    }

    const evidence: AttestationEnvelope | UnboundEvidence = positionals[0] !== undefined ? parseEnvelope(readFile(positionals[0]).toString('utf8')) : evidenceFromFlags(v);
    const bound = 'nonce' in evidence;
    const policy = v.policy ? parsePolicy(readFile(v.policy).toString('utf8')) : cliDefaultPolicy(bound);
    const policyNote = v.policy ? `from ${v.policy}` : `CLI default (debug forbidden, TDX UpToDate/SWHardeningNeeded, measurement NOT pinned${bound ? ', report_data binding required' : ''})`;
    const collateral = v.collateral ? loadCollateral(v.collateral) : undefined;

    const simulated = simulatedTrust(v);
    const res = await verifyEvidence(evidence, policy, { now, ...(collateral ? { collateral } : {}), ...(simulated ? { roots: { simulated } } : {}) });
    if (v.json) {
      const claims = res.ok ? res.claims : res.unverifiedClaims;
      console.log(
        JSON.stringify({
          verdict: res.verdict,
          platform: res.platform,
          measurement: claims?.measurement ?? null,
          reasons: res.ok ? [] : res.failures,
          at: res.at,
          atSource: v.at !== undefined ? 'flag' : 'clock',
          policy: v.policy ? 'file' : 'default',
          simulated: claims?.simulated ?? evidence.platform === 'simulated',
          // 'envelope' = SELF-SIGNED (the key inside the evidence): proves internal consistency only.
          simulatedKeySource: claims?.details.platform === 'simulated' ? claims.details.verifierKeySource : null,
          claims: res.ok ? res.claims : null,
          unverifiedClaims: res.ok ? null : res.unverifiedClaims ?? null,
        }),
      );
    } else {
      printHuman(res, atNote, policyNote);
    }
    return res.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError || err instanceof OnchainUsageError || isAttestationError(err)) {
      console.error(`veil verify: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

type VerifyFlags = {
  at?: string; policy?: string; json?: boolean; target?: string; rpc?: string; registry?: string; 'allow-simulated'?: boolean;
  platform?: string; 'simulated-key'?: string[]; 'accept-self-signed'?: boolean; 'trust-gateway-registry'?: boolean;
};

/** `--onchain`: the gateway's attested enclaves (or one envelope file) verified off-chain, then against the registry. */
async function runOnchain(v: VerifyFlags, envelopeFile: string | undefined): Promise<number> {
  if (v.platform) throw new UsageError('--onchain checks envelopes (a file or the gateway\'s), not raw --platform artifacts');
  const now = v.at !== undefined ? parseAt(v.at) : new Date();
  const base = v.policy ? parsePolicy(readFile(v.policy).toString('utf8')) : cliDefaultPolicy(true);
  // Evidence the gateway verified carries the gateway's nonce, not ours; freshness comes from the registry's expiry.
  const policy: AttestationPolicy = { ...base, nonce: 'any', simulated: v['allow-simulated'] ? 'allow' : base.simulated ?? 'forbid' };
  const envelope = envelopeFile !== undefined ? parseEnvelope(readFile(envelopeFile).toString('utf8')) : undefined;
  if (envelope && !('nonce' in envelope)) throw new UsageError('--onchain needs an envelope that binds keys (nonce, hpkePublicKey, signingAddress)');
  const simulated = simulatedTrust(v);
  let report: OnchainVerifyReport;
  try {
    report = await runOnchainVerify({
      // Without an envelope file the enclaves come from a gateway; with one, a gateway is asked only for its registry.
      target: envelope ? v.target : v.target ?? DEFAULT_TARGET,
      envelope: envelope as AttestationEnvelope | undefined,
      rpcUrl: v.rpc,
      registryAddress: v.registry,
      trustGatewayRegistry: v['trust-gateway-registry'] ?? false,
      allowDevRegistry: v['allow-simulated'] ?? false,
      policy,
      simulatedTrust: simulated,
      now,
    });
  } catch (err) {
    if (err instanceof OnchainUsageError) throw err;
    if (err instanceof OnchainRegistryRefused) {
      const reason = { code: err.code, message: err.message };
      console.log(v.json ? JSON.stringify({ verdict: 'invalid', reasons: [reason], onchain: true }) : `veil verify --onchain: INVALID\n  - ${reason.code}: ${reason.message}`);
      return 1;
    }
    const e = err as { code?: string; message: string };
    console.error(`veil verify: could not check on-chain: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    return 1;
  }
  const first = report.enclaves[0]!;
  if (v.json) {
    console.log(JSON.stringify({
      verdict: report.verdict, platform: first.platform, measurement: first.measurement,
      reasons: report.enclaves.flatMap((e) => e.reasons), at: report.at, onchain: true, registry: report.registry, enclaves: report.enclaves,
    }));
  } else {
    const lines = [`veil verify --onchain: ${report.verdict.toUpperCase()}`, `  registry     ${report.registry.registryAddress} on chain ${report.registry.chainId} (${report.registry.source === 'flags' ? 'pinned with --rpc/--registry' : 'named by the gateway, trusted on --trust-gateway-registry'})`, `  verified at  ${report.at}`];
    for (const e of report.enclaves) {
      lines.push(`  enclave ${e.nodeId ?? '(file)'}: ${e.verdict}  platform=${e.platform}${e.simulated ? ' (SIMULATED: proves nothing about hardware)' : ''}  signer=${e.signingAddress}`);
      lines.push(`    measurement ${e.measurement ?? 'unknown'}`);
      for (const r of e.reasons) lines.push(`    - ${r.code}: ${r.message}`);
    }
    console.log(lines.join('\n'));
  }
  return report.verdict === 'valid' ? 0 : 1;
}

function parseAt(at: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(at) || Number.isNaN(Date.parse(at))) throw new UsageError(`--at must be an ISO 8601 time (got "${at}")`);
  return new Date(at);
}
