/**
 * Parser fuzzing with a seeded PRNG: random bytes, truncations and byte mutations of real vectors.
 * Every throw must be an AttestationError with a stable code — never a RangeError or a library error.
 * The verifiers must never throw at all on the same inputs (they return failures).
 */
import { AttestationError } from './errors';
import { mulberry32, randomBytes } from './test-support/prng';
import { HAVE_VECTORS, readVector } from './test-support/vectors';
import { parseSnpReport } from './sev-snp/parse-snp-report';
import { parseSnpCertTable } from './sev-snp/parse-snp-cert-table';
import { parseTdxQuote } from './tdx/parse-tdx-quote';
import { parseNitroDocument } from './nitro/parse-nitro-document';
import { parseSimulatedReport } from './simulated/parse-simulated-report';
import { parseEnvelope } from './envelope/parse-envelope';
import { parsePolicy } from './policy/parse-policy';
import { parseTdxCollateral } from './tdx/parse-tdx-collateral';
import { readQeIdentity, readTcbInfo } from './tdx/read-tdx-collateral-json';
import { parseCrl } from './x509/parse-crl';
import { verifySnpReport } from './sev-snp/verify-snp-report';
import { verifyTdxQuote } from './tdx/verify-tdx-quote';
import { verifyNitroDocument } from './nitro/verify-nitro-document';
import { DEFAULT_TRUST_ROOTS } from './trust-roots';

const PER_STRATEGY = 700;
const CODES = new Set(['malformed_evidence', 'unsupported_version', 'invalid_envelope', 'invalid_policy', 'invalid_collateral', 'invalid_certificate', 'invalid_argument']);
const counts: Record<string, { inputs: number; typedErrors: number }> = {};

afterAll(() => {
  const total = Object.values(counts).reduce((a, c) => a + c.inputs, 0);
  // eslint-disable-next-line no-console
  console.log(`parser fuzz: ${total} inputs; ${JSON.stringify(counts)}`);
});

function check(name: string, parse: (b: Uint8Array) => unknown, input: Uint8Array): void {
  const c = (counts[name] ??= { inputs: 0, typedErrors: 0 });
  c.inputs++;
  try {
    parse(input);
  } catch (err) {
    if (!(err instanceof AttestationError) || !CODES.has(err.code)) {
      throw new Error(`${name} threw an untyped error on input ${Buffer.from(input).toString('hex').slice(0, 200)}: ${String(err)}`);
    }
    c.typedErrors++;
  }
}

function inputs(seed: number, seeds: Uint8Array[], maxRandom: number): Uint8Array[] {
  const rand = mulberry32(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < PER_STRATEGY; i++) out.push(randomBytes(rand, Math.floor(rand() * maxRandom)));
  for (const s of seeds) {
    for (let i = 0; i < PER_STRATEGY / seeds.length; i++) out.push(s.slice(0, Math.floor(rand() * s.length)));
    for (let i = 0; i < PER_STRATEGY / seeds.length; i++) {
      const m = s.slice();
      const n = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < n; k++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      out.push(m);
    }
  }
  return out;
}

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const v = (p: string) => (HAVE_VECTORS ? [readVector(p)] : []);
const snpSeeds = () => [...v('sev-snp/gsg_milan_report.bin'), ...v('sev-snp/trustee_milan_vlek_report.bin'), new Uint8Array(0x4a0).fill(0).map((_, i) => (i === 0 ? 2 : 0))];
const tdxSeeds = () => [...v('tdx/dcapqvl_tdx_v4_quote.bin'), ...v('tdx/dcapqvl_tdx_v5_outdated_quote.bin'), ...v('tdx/dcapqvl_sgx_v3_quote.bin')];
const nitroSeeds = () => [...v('nitro/blocky_nitro_attestation.cbor')];
const collateralSeeds = () => (HAVE_VECTORS ? [readVector('tdx/dcapqvl_tdx_v4_collateral.json')] : []);

describe('parser fuzz (seeded): every throw is a typed AttestationError', () => {
  test('SEV-SNP report parser', () => {
    for (const i of inputs(1, snpSeeds(), 1500)) check('parseSnpReport', parseSnpReport, i);
    // Fixed-size format: also fuzz full-size random reports.
    const rand = mulberry32(11);
    for (let i = 0; i < PER_STRATEGY; i++) check('parseSnpReport', parseSnpReport, randomBytes(rand, 0x4a0));
  });

  test('SEV-SNP certificate table parser', () => {
    for (const i of inputs(2, [], 400)) check('parseSnpCertTable', parseSnpCertTable, i);
  });

  test('DCAP quote parser', () => {
    for (const i of inputs(3, tdxSeeds(), 6000)) check('parseTdxQuote', parseTdxQuote, i);
  });

  test('Nitro COSE/CBOR parser', () => {
    for (const i of inputs(4, nitroSeeds(), 3000)) check('parseNitroDocument', parseNitroDocument, i);
  });

  test('simulated report parser', () => {
    for (const i of inputs(5, [], 400)) check('parseSimulatedReport', parseSimulatedReport, i);
  });

  test('JSON readers: envelope, policy, collateral, TCB info, QE identity', () => {
    const seeds = [new Uint8Array(Buffer.from('{"version":1,"platform":"tdx","evidence":"AAAA","nonce":"00","hpkePublicKey":"00","signingAddress":"0x0000000000000000000000000000000000000000"}')), ...collateralSeeds()];
    for (const i of inputs(6, seeds, 300)) {
      check('parseEnvelope', (b) => parseEnvelope(text(b)), i);
      check('parsePolicy', (b) => parsePolicy(text(b)), i);
      check('parseTdxCollateral', (b) => parseTdxCollateral(text(b)), i);
      check('readTcbInfo', (b) => readTcbInfo(text(b)), i);
      check('readQeIdentity', (b) => readQeIdentity(text(b)), i);
    }
  });

  test('CRL parser', () => {
    const seeds = HAVE_VECTORS ? [readVector('tdx/gtg_collateral/root_ca_crl.der'), readVector('tdx/gtg_collateral/pck_crl_platform.der')] : [];
    for (const i of inputs(7, seeds, 600)) check('parseCrl', parseCrl, i);
  });

  (HAVE_VECTORS ? test : test.skip)('verifiers never throw on mutated evidence', () => {
    const rand = mulberry32(8);
    const now = new Date('2025-01-01T00:00:00Z');
    const vcek = readVector('sev-snp/gsg_milan_vcek.der');
    for (const i of inputs(9, snpSeeds(), 1500).filter(() => rand() < 0.2)) {
      expect(Array.isArray(verifySnpReport({ report: i, certificates: [vcek, i], now, roots: DEFAULT_TRUST_ROOTS.sevSnp }).failures)).toBe(true);
    }
    for (const i of inputs(10, tdxSeeds(), 6000).filter(() => rand() < 0.2)) {
      expect(Array.isArray(verifyTdxQuote({ quote: i, now, roots: DEFAULT_TRUST_ROOTS.tdx }).failures)).toBe(true);
    }
    for (const i of inputs(12, nitroSeeds(), 3000).filter(() => rand() < 0.2)) {
      expect(Array.isArray(verifyNitroDocument({ document: i, now, roots: DEFAULT_TRUST_ROOTS.nitro }).failures)).toBe(true);
    }
  });
});
