/**
 * What a successful verification tells the caller. Everything is plain JSON-friendly data: byte
 * strings are canonical lowercase hex without `0x` (except the EVM signing address), times are ISO 8601.
 */
import type { Platform } from './platform';

export interface SnpTcbVersion {
  bootloader: number;
  tee: number;
  snp: number;
  microcode: number;
  /** Turin and later only. */
  fmc?: number;
}

export type TdxTcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked';

export const TDX_TCB_STATUSES: readonly TdxTcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
];

export type TcbClaims =
  | {
      platform: 'sev-snp';
      /** The TCB the report (and its VCEK) vouch for. */
      reported: SnpTcbVersion;
      current: SnpTcbVersion;
      committed: SnpTcbVersion;
      launch: SnpTcbVersion;
    }
  | {
      platform: 'tdx';
      /** Present only when collateral was supplied and verified; `undefined` means "not evaluated". */
      status: TdxTcbStatus | undefined;
      advisoryIds: string[];
      tcbDate: string | undefined;
      teeTcbSvn: string;
      fmspc: string;
      pceSvn: number;
      sgxTcbComponents: number[];
    }
  | { platform: 'nitro' }
  | { platform: 'simulated'; svn: number };

export interface SnpDetails {
  platform: 'sev-snp';
  version: number;
  product: string | undefined;
  signingKey: 'vcek' | 'vlek';
  guestSvn: number;
  policy: string;
  vmpl: number;
  platformInfo: string;
  familyId: string;
  imageId: string;
  hostData: string;
  idKeyDigest: string;
  authorKeyDigest: string;
  reportId: string;
  firmware: { major: number; minor: number; build: number };
}

export interface TdxDetails {
  platform: 'tdx';
  quoteVersion: number;
  bodyType: 'td10' | 'td15';
  mrSeam: string;
  mrSignerSeam: string;
  seamAttributes: string;
  tdAttributes: string;
  xfam: string;
  mrTd: string;
  mrConfigId: string;
  mrOwner: string;
  mrOwnerConfig: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  teeTcbSvn2?: string;
  mrServiceTd?: string;
  qeSvn: number;
  pceSvn: number;
}

export interface NitroDetails {
  platform: 'nitro';
  moduleId: string;
  digest: string;
  /** PCR index → lowercase hex. */
  pcrs: Record<string, string>;
  publicKey: string | undefined;
  userData: string | undefined;
  nonce: string | undefined;
}

export interface SimulatedDetails {
  platform: 'simulated';
  /** Always true: simulated evidence proves nothing about hardware. */
  simulated: true;
  keyAlgorithm: 'p256' | 'secp256k1';
  /** SHA-256 of the SPKI DER key the report verified with (empty when it did not verify). */
  verifierKeyFingerprint: string;
  /**
   * `pinned`: a key the verifier was given (roots.simulated) signed the report. `envelope`: the report verified only
   * with the key it carries itself — SELF-SIGNED, anyone can produce it. `none`: it did not verify.
   */
  verifierKeySource: 'pinned' | 'envelope' | 'none';
}

export type PlatformDetails = SnpDetails | TdxDetails | NitroDetails | SimulatedDetails;

export interface AttestationClaims {
  platform: Platform;
  /** True only for the development platform. Never true for hardware evidence. */
  simulated: boolean;
  /**
   * The workload measurement that policies pin, canonical lowercase hex:
   * SNP MEASUREMENT (48 B); TDX workload id (see README); Nitro PCR0; simulated measurement field.
   */
  measurement: string;
  debug: boolean;
  /** The 64 bytes the TEE bound (SNP/TDX report_data, Nitro user_data, simulated report_data). */
  reportData: string;
  tcb: TcbClaims;
  /** SNP chip id (absent when masked / VLEK), not applicable elsewhere. */
  chipId?: string;
  /** Nitro module id (instance + enclave id). */
  instanceId?: string;
  /** When the TEE says it produced the evidence (Nitro and simulated only). */
  issuedAt?: string;
  /** Envelope identity that the report_data binding was checked against. */
  binding?: { hpkePublicKey: string; signingAddress: string; nonce: string };
  details: PlatformDetails;
}
