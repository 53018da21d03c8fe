import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { computeReportData } from '../compute-report-data';
import { fromBase64 } from '../bytes';
import { verifyEvidence } from '../verify-evidence';
import { guidToBytes, parseSnpCertTable, SNP_CERT_GUIDS } from '../sev-snp/parse-snp-cert-table';
import { PERMISSIVE_POLICY } from '../test-support/policies';
import { HAVE_VECTORS, readVector } from '../test-support/vectors';
import { createConfigfsTsmProvider, type TsmFileSystem } from './create-configfs-tsm-provider';
import { createEvidenceProvider } from './create-evidence-provider';

const params = { hpkePublicKey: new Uint8Array(32).fill(3), signingAddress: '0x' + '99'.repeat(20), nonce: new Uint8Array(32).fill(4) };

/** SNP certificate table holding one VCEK, as the host hands it to the guest. */
function certTable(vcek: Uint8Array): Uint8Array {
  const header = Buffer.alloc(48); // one entry + zero terminator
  Buffer.from(guidToBytes(SNP_CERT_GUIDS.vcek)).copy(header, 0);
  header.writeUInt32LE(48, 16);
  header.writeUInt32LE(vcek.length, 20);
  return new Uint8Array(Buffer.concat([header, vcek]));
}

/**
 * A fake kernel over a temporary directory: mkdir of a report entry creates the attribute files the
 * kernel would (provider, generation, outblob, auxblob); writing inblob bumps generation.
 */
function fakeKernel(files: { provider: string; outblob: Uint8Array; auxblob?: Uint8Array; raceOnRead?: boolean }): { fs: TsmFileSystem; root: string; written: () => Uint8Array | undefined } {
  const root = mkdtempSync(path.join(tmpdir(), 'tsm-report-'));
  let inblob: Uint8Array | undefined;
  const fs: TsmFileSystem = {
    mkdir: async (dir) => {
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'provider'), `${files.provider}\n`);
      writeFileSync(path.join(dir, 'generation'), '0\n');
      writeFileSync(path.join(dir, 'outblob'), files.outblob);
      if (files.auxblob) writeFileSync(path.join(dir, 'auxblob'), files.auxblob);
    },
    rmdir: async (dir) => rmSync(dir, { recursive: true }),
    readFile: async (file) => {
      if (files.raceOnRead && file.endsWith('outblob')) {
        const g = path.join(path.dirname(file), 'generation');
        writeFileSync(g, `${Number(readFileSync(g, 'utf8')) + 1}\n`); // another writer sneaks in
      }
      return new Uint8Array(await fsp.readFile(file));
    },
    writeFile: async (file, data) => {
      if (file.endsWith('inblob')) {
        inblob = data;
        const g = path.join(path.dirname(file), 'generation');
        writeFileSync(g, `${Number(readFileSync(g, 'utf8')) + 1}\n`);
      }
      await fsp.writeFile(file, data);
    },
  };
  return { fs, root, written: () => inblob };
}

(HAVE_VECTORS ? describe : describe.skip)('configfs-tsm provider against a fake kernel', () => {
  test('SEV-SNP: writes report_data to inblob, returns the report and the VCEK from auxblob, cleans up', async () => {
    const report = readVector('sev-snp/virtee_milan_report.bin');
    const vcek = readVector('sev-snp/virtee_milan_vcek.der');
    const k = fakeKernel({ provider: 'sev_guest', outblob: report, auxblob: certTable(vcek) });
    const provider = createConfigfsTsmProvider({ root: k.root, fs: k.fs, entryName: () => 'veil-test' });
    const env = await provider.getEvidence(params);
    expect(provider.platform).toBe('sev-snp');
    expect(Buffer.from(k.written()!).equals(Buffer.from(computeReportData(params)))).toBe(true);
    expect(env).toMatchObject({ version: 1, platform: 'sev-snp', signingAddress: params.signingAddress, nonce: '04'.repeat(32), hpkePublicKey: '03'.repeat(32) });
    expect(Buffer.from(fromBase64(env.certificates![0]!, 'c')).equals(Buffer.from(vcek))).toBe(true);
    expect(existsSync(path.join(k.root, 'veil-test'))).toBe(false);
    // The vector's report_data is not ours, so verify cryptographically only.
    const res = await verifyEvidence(env, PERMISSIVE_POLICY, { now: new Date('2024-01-01T00:00:00Z') });
    expect(res.ok).toBe(true);
    // …and the binding check would (correctly) fail: the kernel here is fake.
    const bound = await verifyEvidence(env, { ...PERMISSIVE_POLICY, reportDataBinding: 'required' }, { now: new Date('2024-01-01T00:00:00Z') });
    expect(bound.ok ? [] : bound.failures.map((f) => f.code)).toEqual(['report_data_mismatch']);
  });

  test('TDX: returns the quote', async () => {
    const quote = readVector('tdx/dcapqvl_tdx_v4_quote.bin');
    const k = fakeKernel({ provider: 'tdx_guest', outblob: quote });
    const env = await createEvidenceProvider({ kind: 'configfs-tsm', root: k.root, fs: k.fs }).getEvidence(params);
    expect(env.platform).toBe('tdx');
    expect(env.certificates).toBeUndefined();
    expect(Buffer.from(fromBase64(env.evidence, 'e')).equals(Buffer.from(quote))).toBe(true);
  });

  test('error: generation changes while reading → provider_race, entry removed', async () => {
    const k = fakeKernel({ provider: 'tdx_guest', outblob: readVector('tdx/dcapqvl_tdx_v4_quote.bin'), raceOnRead: true });
    await expect(createConfigfsTsmProvider({ root: k.root, fs: k.fs, entryName: () => 'raced' }).getEvidence(params)).rejects.toMatchObject({ code: 'provider_race' });
    expect(existsSync(path.join(k.root, 'raced'))).toBe(false);
  });
});

describe('configfs-tsm provider errors', () => {
  test('error: no configfs-tsm → provider_unavailable', async () => {
    await expect(createConfigfsTsmProvider({ root: path.join(tmpdir(), 'definitely-not-configfs', 'x') }).getEvidence(params)).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  test('error: unknown kernel provider → provider_unavailable', async () => {
    const k = fakeKernel({ provider: 'arm_cca_guest', outblob: new Uint8Array(10) });
    await expect(createConfigfsTsmProvider({ root: k.root, fs: k.fs }).getEvidence(params)).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  test('error: empty outblob → provider_failed', async () => {
    const k = fakeKernel({ provider: 'sev_guest', outblob: new Uint8Array(0) });
    await expect(createConfigfsTsmProvider({ root: k.root, fs: k.fs }).getEvidence(params)).rejects.toMatchObject({ code: 'provider_failed' });
  });

  test('SNP certificate table round trip', () => {
    const t = parseSnpCertTable(certTable(new Uint8Array([1, 2, 3])));
    expect([...t.keys()]).toEqual([SNP_CERT_GUIDS.vcek]);
  });
});
