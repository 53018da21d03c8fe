/**
 * Evidence from the Linux configfs-tsm report interface (v6.7+), for SEV-SNP guests (`sev_guest`)
 * and TDX guests (`tdx_guest`). Per request: mkdir an entry, write report_data to `inblob`, read
 * `outblob` (SNP report / TDX quote), `auxblob` (SNP certificate table) and `provider`, and compare
 * `generation` before and after the reads — a different value means another writer raced us.
 * The configfs root and the file-system calls are injectable so tests can play the kernel.
 * Docs: https://www.kernel.org/doc/Documentation/ABI/testing/configfs-tsm-report
 */
import { promises as nodeFs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { computeReportData } from '../compute-report-data';
import { AttestationError, isAttestationError } from '../errors';
import { toBase64 } from '../bytes';
import { ENVELOPE_VERSION, type AttestationEnvelope } from '../envelope/attestation-envelope';
import { parseSnpCertTable, SNP_CERT_GUIDS } from '../sev-snp/parse-snp-cert-table';
import { boundFields } from './bound-fields';
import type { EvidenceProvider, GetEvidenceParameters } from './evidence-provider';

export const DEFAULT_TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';

/** The few file-system calls the provider makes (node:fs/promises by default). */
export interface TsmFileSystem {
  mkdir(dir: string): Promise<unknown>;
  rmdir(dir: string): Promise<unknown>;
  readFile(file: string): Promise<Uint8Array>;
  writeFile(file: string, data: Uint8Array): Promise<unknown>;
}

export interface ConfigfsTsmProviderOptions {
  /** Defaults to /sys/kernel/config/tsm/report. */
  root?: string;
  fs?: TsmFileSystem;
  /** Entry name generator (default: random), one entry per request so concurrent callers never share one. */
  entryName?: () => string;
}

const PROVIDERS: Record<string, 'sev-snp' | 'tdx'> = { sev_guest: 'sev-snp', tdx_guest: 'tdx' };

export function createConfigfsTsmProvider(options: ConfigfsTsmProviderOptions = {}): EvidenceProvider & { platform: 'sev-snp' | 'tdx' | 'unknown' } {
  const root = options.root ?? DEFAULT_TSM_REPORT_ROOT;
  const fs: TsmFileSystem = options.fs ?? {
    mkdir: (d) => nodeFs.mkdir(d),
    rmdir: (d) => nodeFs.rmdir(d),
    readFile: async (f) => new Uint8Array(await nodeFs.readFile(f)),
    writeFile: (f, data) => nodeFs.writeFile(f, data),
  };
  const entryName = options.entryName ?? (() => `veil-${randomBytes(8).toString('hex')}`);
  const provider = {
    // Known only after the first request (the kernel tells us through the `provider` file).
    platform: 'unknown' as 'sev-snp' | 'tdx' | 'unknown',
    async getEvidence(params: GetEvidenceParameters): Promise<AttestationEnvelope> {
      const reportData = computeReportData(params);
      const dir = path.join(root, entryName());
      try {
        await fs.mkdir(dir);
      } catch (cause) {
        throw new AttestationError('provider_unavailable', 'configfs-tsm is not available (cannot create a report entry)', { root }, { cause });
      }
      try {
        const read = async (name: string) => fs.readFile(path.join(dir, name));
        const text = async (name: string) => Buffer.from(await read(name)).toString('utf8').trim();
        const kernelProvider = await text('provider');
        const platform = PROVIDERS[kernelProvider];
        if (!platform) throw new AttestationError('provider_unavailable', `configfs-tsm provider "${kernelProvider}" is not supported`, { provider: kernelProvider });
        provider.platform = platform;

        await fs.writeFile(path.join(dir, 'inblob'), reportData);
        const before = await text('generation');
        const outblob = await read('outblob');
        let auxblob: Uint8Array = new Uint8Array(0);
        if (platform === 'sev-snp') {
          try {
            auxblob = await read('auxblob');
          } catch {
            auxblob = new Uint8Array(0); // no certificates from the host: the verifier must supply the VCEK
          }
        }
        const after = await text('generation');
        if (before !== after) throw new AttestationError('provider_race', 'configfs-tsm report entry changed while reading (generation mismatch)', { before, after });
        if (outblob.length === 0) throw new AttestationError('provider_failed', 'configfs-tsm returned an empty report');

        const envelope: AttestationEnvelope = { version: ENVELOPE_VERSION, platform, evidence: toBase64(outblob), ...boundFields(params) };
        if (auxblob.length > 0) {
          const table = parseSnpCertTable(auxblob);
          const key = table.get(SNP_CERT_GUIDS.vcek) ?? table.get(SNP_CERT_GUIDS.vlek);
          if (key) envelope.certificates = [toBase64(key)];
        }
        return envelope;
      } catch (err) {
        if (isAttestationError(err)) throw err;
        throw new AttestationError('provider_failed', 'configfs-tsm report generation failed', { dir }, { cause: err });
      } finally {
        await fs.rmdir(dir).catch(() => undefined);
      }
    },
  };
  return provider;
}
