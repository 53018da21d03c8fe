/**
 * Negative (and baseline positive) cases on self-made evidence in the real SNP, TDX and Nitro
 * formats, signed by chains generated here: wrong root, expired chain, debug, TCB mismatch/status,
 * bad report_data binding, broken QE binding.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { Encoder } from 'cbor-x';
import { computeReportData } from './compute-report-data';
import { toBase64, toHex } from './bytes';
import { verifyEvidence, type VerifyEvidenceResult } from './verify-evidence';
import type { AttestationPolicy } from './policy/attestation-policy';
import type { AttestationEnvelope } from './envelope/attestation-envelope';
import type { TdxCollateral } from './tdx/parse-tdx-collateral';
import { extension, issue, rawPublicKey, signRaw, type Issued } from './test-support/test-pki';

const NOW = new Date('2026-11-25T00:00:00Z');
const hpkePublicKey = new Uint8Array(32).fill(0x5a);
const signingAddress = '0x' + 'c0'.repeat(20);
const nonce = new Uint8Array(32).fill(0x77);
const binding = { nonce: toHex(nonce), hpkePublicKey: toHex(hpkePublicKey), signingAddress };
const reportData = computeReportData({ hpkePublicKey, signingAddress, nonce });
const MEASUREMENT = new Uint8Array(48).fill(0xab);

const codes = (r: VerifyEvidenceResult) => (r.ok ? [] : [...new Set(r.failures.map((f) => f.code))].sort());
// The same measurement pinned for each hardware platform, so one helper serves the SNP, TDX and Nitro suites.
const strictPolicy = (measurement: string): AttestationPolicy => ({
  measurements: (['sev-snp', 'tdx', 'nitro'] as const).map((p) => `${p}:${measurement}`),
  debug: 'forbid',
  snpMinimumTcb: { bootloader: 3, snp: 8 },
  tdxTcbStatuses: ['UpToDate'],
  maxAgeSeconds: 'any',
  nonce: toHex(nonce),
  reportDataBinding: 'required',
});
const der = (n: asn1js.BaseBlock) => n.toBER(false);

// ---------------------------------------------------------------- SEV-SNP
describe('self-made SEV-SNP evidence', () => {
  const chipId = new Uint8Array(64).fill(0x42);
  let ark: Issued;
  let ask: Issued;

  async function vcek(o: { snpSpl?: number; notAfter?: Date; hwId?: Uint8Array } = {}): Promise<Issued> {
    const spl = (oid: string, v: number) => extension(oid, der(new asn1js.Integer({ value: v })));
    return issue({
      name: 'SEV-VCEK',
      curve: 'P-384',
      issuer: ask,
      ca: false,
      ...(o.notAfter ? { notAfter: o.notAfter } : {}),
      extensions: [
        spl('1.3.6.1.4.1.3704.1.3.1', 3),
        spl('1.3.6.1.4.1.3704.1.3.2', 0),
        spl('1.3.6.1.4.1.3704.1.3.3', o.snpSpl ?? 8),
        spl('1.3.6.1.4.1.3704.1.3.8', 115),
        extension('1.3.6.1.4.1.3704.1.4', der(new asn1js.OctetString({ valueHex: (o.hwId ?? chipId).slice().buffer }))),
      ],
    });
  }

  async function report(key: Issued, o: { debug?: boolean; reportData?: Uint8Array } = {}): Promise<Uint8Array> {
    const r = Buffer.alloc(0x4a0);
    r.writeUInt32LE(2, 0x00);
    r.writeBigUInt64LE(0x30000n | (o.debug ? 1n << 19n : 0n), 0x08);
    r.writeUInt32LE(1, 0x34);
    Buffer.from(o.reportData ?? reportData).copy(r, 0x50);
    Buffer.from(MEASUREMENT).copy(r, 0x90);
    Buffer.from([3, 0, 0, 0, 0, 0, 8, 115]).copy(r, 0x180); // reported_tcb: bl 3, tee 0, snp 8, ucode 115
    Buffer.from(chipId).copy(r, 0x1a0);
    const sig = await signRaw(key.keys.privateKey, 'SHA-384', r.subarray(0, 0x2a0));
    Buffer.from(sig.subarray(0, 48)).reverse().copy(r, 0x2a0);
    Buffer.from(sig.subarray(48)).reverse().copy(r, 0x2e8);
    return new Uint8Array(r);
  }

  const envelope = (r: Uint8Array, key: Issued): AttestationEnvelope => ({ version: 1, platform: 'sev-snp', evidence: toBase64(r), certificates: [toBase64(key.der)], ...binding });
  const roots = () => ({ sevSnp: [{ product: 'Milan' as const, ark: ark.pem, ask: ask.pem }] });

  beforeAll(async () => {
    ark = await issue({ name: 'ARK-Milan', curve: 'P-384', ca: true });
    ask = await issue({ name: 'SEV-Milan', curve: 'P-384', issuer: ark, ca: true });
  });

  test('baseline: valid under a strict policy with injected roots', async () => {
    const key = await vcek();
    const res = await verifyEvidence(envelope(await report(key), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW, roots: roots() });
    expect(codes(res)).toEqual([]);
  });

  test('error: wrong root (the pinned AMD roots) → untrusted_root', async () => {
    const key = await vcek();
    expect(codes(await verifyEvidence(envelope(await report(key), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW }))).toEqual(['untrusted_root']);
  });

  test('error: expired VCEK → certificate_expired', async () => {
    const key = await vcek({ notAfter: new Date('2025-01-01T00:00:00Z') });
    expect(codes(await verifyEvidence(envelope(await report(key), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW, roots: roots() }))).toEqual(['certificate_expired']);
  });

  test('error: DEBUG policy bit → debug_enabled', async () => {
    const key = await vcek();
    expect(codes(await verifyEvidence(envelope(await report(key, { debug: true }), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW, roots: roots() }))).toEqual(['debug_enabled']);
  });

  test('error: VCEK TCB extension ≠ REPORTED_TCB → tcb_mismatch (actual vs expected)', async () => {
    const key = await vcek({ snpSpl: 7 });
    const res = await verifyEvidence(envelope(await report(key), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW, roots: roots() });
    expect(codes(res)).toEqual(['tcb_mismatch']);
    expect(!res.ok && res.failures[0]).toMatchObject({ actual: 8, expected: 7 });
  });

  test('error: VCEK hwID ≠ CHIP_ID → chip_id_mismatch', async () => {
    const key = await vcek({ hwId: new Uint8Array(64).fill(1) });
    expect(codes(await verifyEvidence(envelope(await report(key), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW, roots: roots() }))).toEqual(['chip_id_mismatch']);
  });

  test('error: report_data bound to other keys → report_data_mismatch', async () => {
    const key = await vcek();
    const other = computeReportData({ hpkePublicKey: new Uint8Array(32).fill(1), signingAddress, nonce });
    expect(codes(await verifyEvidence(envelope(await report(key, { reportData: other }), key), strictPolicy(toHex(MEASUREMENT)), { now: NOW, roots: roots() }))).toEqual(['report_data_mismatch']);
  });

  test('error: measurement not allowed, TCB below minimum', async () => {
    const key = await vcek();
    const res = await verifyEvidence(envelope(await report(key), key), { ...strictPolicy('00'.repeat(48)), snpMinimumTcb: { microcode: 200 } }, { now: NOW, roots: roots() });
    expect(codes(res)).toEqual(['measurement_not_allowed', 'tcb_below_minimum']);
  });
});

// ---------------------------------------------------------------- TDX
describe('self-made TDX evidence', () => {
  const SGX = '1.2.840.113741.1.13.1';
  const FMSPC = '00906ed50000';
  const QE_MRSIGNER = 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5';
  let root: Issued;
  let pckCa: Issued;
  let tcbSigner: Issued;

  function sgxExtension(): ArrayBuffer {
    const entry = (oid: string, value: asn1js.BaseBlock) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), value] });
    const comps = Array.from({ length: 16 }, (_, i) => entry(`${SGX}.2.${i + 1}`, new asn1js.Integer({ value: 5 })));
    return der(
      new asn1js.Sequence({
        value: [
          entry(`${SGX}.1`, new asn1js.OctetString({ valueHex: new Uint8Array(16).buffer })),
          entry(`${SGX}.2`, new asn1js.Sequence({ value: [...comps, entry(`${SGX}.2.17`, new asn1js.Integer({ value: 13 })), entry(`${SGX}.2.18`, new asn1js.OctetString({ valueHex: new Uint8Array(16).fill(5).buffer }))] })),
          entry(`${SGX}.3`, new asn1js.OctetString({ valueHex: new Uint8Array(2).buffer })),
          entry(`${SGX}.4`, new asn1js.OctetString({ valueHex: new Uint8Array(Buffer.from(FMSPC, 'hex')).buffer })),
        ],
      }),
    );
  }

  async function quote(o: { pck?: Issued; debug?: boolean; reportData?: Uint8Array; breakQeBinding?: boolean } = {}): Promise<Uint8Array> {
    const pck = o.pck ?? (await issue({ name: 'Test PCK', curve: 'P-256', issuer: pckCa, ca: false, extensions: [extension(SGX, sgxExtension())] }));
    const att = await (await import('./test-support/test-pki')).ecKeys('P-256');
    const attKey = await rawPublicKey(att.publicKey);
    const header = Buffer.alloc(48);
    header.writeUInt16LE(4, 0);
    header.writeUInt16LE(2, 2);
    header.writeUInt32LE(0x81, 4);
    Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex').copy(header, 12);
    const body = Buffer.alloc(584);
    Buffer.from([6, 1, 3]).copy(body, 0); // tee_tcb_svn
    body[120] = o.debug ? 1 : 0; // td_attributes.DEBUG
    body[123] = 0x10; // SEPT_VE_DISABLE, as real TDs set it
    Buffer.from(MEASUREMENT).copy(body, 136); // MRTD
    Buffer.from(o.reportData ?? reportData).copy(body, 520);
    const signed = Buffer.concat([header, body]);
    const quoteSig = await signRaw(att.privateKey, 'SHA-256', signed);
    const authData = Buffer.from('self-made qe auth data');
    const qe = Buffer.alloc(384);
    Buffer.from('11000000000000000000000000000000', 'hex').copy(qe, 48); // attributes
    Buffer.from(QE_MRSIGNER, 'hex').copy(qe, 128);
    qe.writeUInt16LE(2, 256); // isvprodid
    qe.writeUInt16LE(6, 258); // isvsvn
    createHash('sha256').update(attKey).update(o.breakQeBinding ? Buffer.from('x') : authData).digest().copy(qe, 320);
    const qeSig = await signRaw(pck.keys.privateKey, 'SHA-256', qe);
    const pem = Buffer.from([pck.pem, pckCa.pem, root.pem].join('\n'));
    const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
    const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
    const inner = Buffer.concat([qe, qeSig, u16(authData.length), authData, u16(5), u32(pem.length), pem]);
    const sigData = Buffer.concat([quoteSig, attKey, u16(6), u32(inner.length), inner]);
    return new Uint8Array(Buffer.concat([signed, u32(sigData.length), sigData]));
  }

  async function collateral(status: string): Promise<TdxCollateral> {
    const svns = (v: number) => Array.from({ length: 16 }, () => ({ svn: v }));
    const tcbInfo = JSON.stringify({
      id: 'TDX', version: 3, issueDate: '2026-11-01T00:00:00Z', nextUpdate: '2026-12-01T00:00:00Z', fmspc: FMSPC.toUpperCase(), pceId: '0000', tcbType: 0, tcbEvaluationDataNumber: 20,
      tcbLevels: [{ tcb: { sgxtcbcomponents: svns(5), pcesvn: 13, tdxtcbcomponents: [{ svn: 6 }, { svn: 1 }, { svn: 3 }, ...svns(0).slice(3)] }, tcbDate: '2026-01-01T00:00:00Z', tcbStatus: status, advisoryIDs: status === 'UpToDate' ? [] : ['INTEL-SA-99999'] }],
    });
    const qeIdentity = JSON.stringify({
      id: 'TD_QE', version: 2, issueDate: '2026-11-01T00:00:00Z', nextUpdate: '2026-12-01T00:00:00Z', tcbEvaluationDataNumber: 20, miscselect: '00000000', miscselectMask: 'FFFFFFFF',
      attributes: '11000000000000000000000000000000', attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000', mrsigner: QE_MRSIGNER.toUpperCase(), isvprodid: 2,
      tcbLevels: [{ tcb: { isvsvn: 4 }, tcbDate: '2026-01-01T00:00:00Z', tcbStatus: 'UpToDate' }],
    });
    const sig = async (text: string) => toHex(await signRaw(tcbSigner.keys.privateKey, 'SHA-256', new Uint8Array(Buffer.from(text))));
    const chain = [tcbSigner.pem, root.pem].join('\n');
    return { tcbInfo, tcbInfoSignature: await sig(tcbInfo), tcbInfoIssuerChain: chain, qeIdentity, qeIdentitySignature: await sig(qeIdentity), qeIdentityIssuerChain: chain };
  }

  const envelope = (q: Uint8Array, c?: TdxCollateral): AttestationEnvelope => ({ version: 1, platform: 'tdx', evidence: toBase64(q), ...(c ? { collateral: c } : {}), ...binding });
  const roots = () => ({ tdx: [root.pem] });
  let workloadId: string;

  beforeAll(async () => {
    root = await issue({ name: 'Test SGX Root CA', curve: 'P-256', ca: true });
    pckCa = await issue({ name: 'Test SGX PCK Platform CA', curve: 'P-256', issuer: root, ca: true });
    tcbSigner = await issue({ name: 'Test SGX TCB Signing', curve: 'P-256', issuer: root, ca: false });
    const h = createHash('sha384').update(MEASUREMENT);
    for (let i = 0; i < 4; i++) h.update(Buffer.alloc(48));
    workloadId = h.digest('hex');
  });

  test('baseline: valid and UpToDate with self-made collateral; workload id = SHA-384(MRTD‖RTMR0..3)', async () => {
    const res = await verifyEvidence(envelope(await quote(), await collateral('UpToDate')), strictPolicy(workloadId), { now: NOW, roots: roots() });
    expect(codes(res)).toEqual([]);
    expect(res.ok && res.claims.tcb).toMatchObject({ status: 'UpToDate', fmspc: FMSPC });
  });

  test('error: OutOfDate TCB → tcb_status_rejected; accepted when the policy lists OutOfDate', async () => {
    const env = envelope(await quote(), await collateral('OutOfDate'));
    const res = await verifyEvidence(env, strictPolicy(workloadId), { now: NOW, roots: roots() });
    expect(codes(res)).toEqual(['tcb_status_rejected']);
    expect(!res.ok && res.failures[0]).toMatchObject({ actual: 'OutOfDate', expected: ['UpToDate'] });
    expect((await verifyEvidence(env, { ...strictPolicy(workloadId), tdxTcbStatuses: ['UpToDate', 'OutOfDate'] }, { now: NOW, roots: roots() })).ok).toBe(true);
  });

  test('error: wrong root (the pinned Intel root) → untrusted_root', async () => {
    expect(codes(await verifyEvidence(envelope(await quote(), await collateral('UpToDate')), strictPolicy(workloadId), { now: NOW }))).toContain('untrusted_root');
  });

  test('error: expired PCK certificate → certificate_expired', async () => {
    const pck = await issue({ name: 'Test PCK', curve: 'P-256', issuer: pckCa, ca: false, notAfter: new Date('2026-01-01T00:00:00Z'), extensions: [extension(SGX, sgxExtension())] });
    expect(codes(await verifyEvidence(envelope(await quote({ pck }), await collateral('UpToDate')), strictPolicy(workloadId), { now: NOW, roots: roots() }))).toEqual(['certificate_expired']);
  });

  test('error: expired collateral → collateral_expired', async () => {
    expect(codes(await verifyEvidence(envelope(await quote(), await collateral('UpToDate')), strictPolicy(workloadId), { now: new Date('2026-12-02T00:00:00Z'), roots: roots() }))).toEqual(['collateral_expired']);
  });

  test('error: TD_ATTRIBUTES.DEBUG → debug_enabled', async () => {
    expect(codes(await verifyEvidence(envelope(await quote({ debug: true }), await collateral('UpToDate')), strictPolicy(workloadId), { now: NOW, roots: roots() }))).toEqual(['debug_enabled']);
  });

  test('error: bad report_data binding → report_data_mismatch', async () => {
    expect(codes(await verifyEvidence(envelope(await quote({ reportData: new Uint8Array(64) }), await collateral('UpToDate')), strictPolicy(workloadId), { now: NOW, roots: roots() }))).toEqual(['report_data_mismatch']);
  });

  test('error: QE report does not bind the attestation key → qe_binding_invalid', async () => {
    expect(codes(await verifyEvidence(envelope(await quote({ breakQeBinding: true }), await collateral('UpToDate')), strictPolicy(workloadId), { now: NOW, roots: roots() }))).toEqual(['qe_binding_invalid']);
  });

  test('error: no collateral while the policy needs a TCB status → collateral_missing', async () => {
    expect(codes(await verifyEvidence(envelope(await quote()), strictPolicy(workloadId), { now: NOW, roots: roots() }))).toEqual(['collateral_missing']);
  });
});

// ---------------------------------------------------------------- Nitro
describe('self-made Nitro evidence', () => {
  let root: Issued;
  let intermediate: Issued;
  const enc = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: false });

  async function document(o: { leaf?: Issued; debug?: boolean; userData?: Uint8Array; timestamp?: number; nonceField?: Uint8Array } = {}): Promise<Uint8Array> {
    const leaf = o.leaf ?? (await issue({ name: 'i-0123.nitro', curve: 'P-384', issuer: intermediate, ca: false }));
    const pcrs = new Map<number, Buffer>();
    for (let i = 0; i < 16; i++) pcrs.set(i, Buffer.alloc(48, i < 3 && !o.debug ? 0xab : 0));
    const payload = enc.encode(
      new Map<string, unknown>([
        ['module_id', 'i-0123-enc0456'],
        ['digest', 'SHA384'],
        ['timestamp', o.timestamp ?? NOW.getTime() - 1000],
        ['pcrs', pcrs],
        ['certificate', Buffer.from(leaf.der)],
        ['cabundle', [Buffer.from(root.der), Buffer.from(intermediate.der)]],
        ['public_key', Buffer.from(hpkePublicKey)],
        ['user_data', Buffer.from(o.userData ?? reportData)],
        ['nonce', Buffer.from(o.nonceField ?? nonce)],
      ]),
    );
    const protectedHeader = enc.encode(new Map([[1, -35]]));
    const toSign = enc.encode(['Signature1', protectedHeader, Buffer.alloc(0), payload]);
    const sig = await signRaw(leaf.keys.privateKey, 'SHA-384', new Uint8Array(toSign));
    return new Uint8Array(enc.encode([protectedHeader, new Map(), payload, Buffer.from(sig)]));
  }

  const envelope = (d: Uint8Array): AttestationEnvelope => ({ version: 1, platform: 'nitro', evidence: toBase64(d), ...binding });
  const roots = () => ({ nitro: [root.pem] });
  const pcr0 = 'ab'.repeat(48);

  beforeAll(async () => {
    root = await issue({ name: 'aws.nitro-enclaves (test)', curve: 'P-384', ca: true });
    intermediate = await issue({ name: 'zonal.test', curve: 'P-384', issuer: root, ca: true });
  });

  test('baseline: valid; PCR0 is the measurement; maxAge from the document timestamp', async () => {
    const res = await verifyEvidence(envelope(await document()), { ...strictPolicy(pcr0), maxAgeSeconds: 60 }, { now: NOW, roots: roots() });
    expect(codes(res)).toEqual([]);
    expect(res.ok && res.claims).toMatchObject({ measurement: pcr0, instanceId: 'i-0123-enc0456' });
  });

  test('error: wrong root (the pinned AWS root) → untrusted_root', async () => {
    expect(codes(await verifyEvidence(envelope(await document()), strictPolicy(pcr0), { now: NOW }))).toEqual(['untrusted_root']);
  });

  test('error: expired leaf → certificate_expired', async () => {
    const leaf = await issue({ name: 'i-0123.nitro', curve: 'P-384', issuer: intermediate, ca: false, notAfter: new Date(NOW.getTime() - 3600_000) });
    expect(codes(await verifyEvidence(envelope(await document({ leaf })), strictPolicy(pcr0), { now: NOW, roots: roots() }))).toEqual(['certificate_expired']);
  });

  test('error: all-zero PCRs (debug enclave) → debug_enabled', async () => {
    const res = await verifyEvidence(envelope(await document({ debug: true })), { ...strictPolicy(pcr0), measurements: 'any' }, { now: NOW, roots: roots() });
    expect(codes(res)).toEqual(['debug_enabled']);
  });

  test('error: user_data not bound to the envelope → report_data_mismatch', async () => {
    expect(codes(await verifyEvidence(envelope(await document({ userData: new Uint8Array(64) })), strictPolicy(pcr0), { now: NOW, roots: roots() }))).toEqual(['report_data_mismatch']);
  });

  test('error: the document nonce field differs from the envelope nonce → nonce_mismatch', async () => {
    expect(codes(await verifyEvidence(envelope(await document({ nonceField: new Uint8Array(32) })), strictPolicy(pcr0), { now: NOW, roots: roots() }))).toEqual(['nonce_mismatch']);
  });

  test('error: stale and future documents', async () => {
    expect(codes(await verifyEvidence(envelope(await document({ timestamp: NOW.getTime() - 600_000 })), { ...strictPolicy(pcr0), maxAgeSeconds: 60 }, { now: NOW, roots: roots() }))).toEqual(['evidence_too_old']);
    expect(codes(await verifyEvidence(envelope(await document({ timestamp: NOW.getTime() + 3_600_000 })), strictPolicy(pcr0), { now: NOW, roots: roots() }))).toEqual(['evidence_from_future']);
  });
});
