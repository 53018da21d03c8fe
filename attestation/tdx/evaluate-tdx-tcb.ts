/**
 * Intel's TCB-level selection for DCAP quotes, done component-wise as Intel's QVL does:
 * the platform level is the first TCB Info level whose 16 SGX component SVNs and PCESVN are all
 * ≤ the PCK certificate's, and (TDX) whose TDX components are ≤ TEE_TCB_SVN; the TDX module's own
 * level comes from `tdxModuleIdentities` (id `TDX_<TEE_TCB_SVN[1]>`, isvsvn TEE_TCB_SVN[0]); the QE's
 * from the QE identity. The three statuses then converge (an out-of-date QE or module makes the
 * platform out of date; revoked anywhere is revoked).
 */
import type { TdxTcbStatus } from '../claims';
import { failure, type AttestationFailure } from '../failure';
import { toHex } from '../bytes';
import type { DcapQuote } from './parse-tdx-quote';
import type { PckExtensions } from './read-pck-extensions';
import type { IsvLevel, QeIdentity, TcbInfo } from './read-tdx-collateral-json';

export interface TdxTcbEvaluation {
  failures: AttestationFailure[];
  status: TdxTcbStatus | undefined;
  advisoryIds: string[];
  tcbDate: string | undefined;
}

function maskedEqual(valueHex: string, expectedHex: string, maskHex: string): boolean {
  const v = Buffer.from(valueHex, 'hex');
  const e = Buffer.from(expectedHex, 'hex');
  const m = Buffer.from(maskHex, 'hex');
  if (v.length !== m.length || e.length !== m.length) return false;
  for (let i = 0; i < m.length; i++) if ((v[i]! & m[i]!) !== (e[i]! & m[i]!)) return false;
  return true;
}

function u32Hex(n: number): string {
  // miscselect is little-endian in the report, hex big-endian in the identity JSON
  return n.toString(16).padStart(8, '0');
}

function isvLevel(levels: readonly IsvLevel[], isvSvn: number): IsvLevel | undefined {
  return levels.find((l) => isvSvn >= l.isvSvn);
}

function converge(platform: TdxTcbStatus, other: TdxTcbStatus): TdxTcbStatus {
  if (platform === 'Revoked' || other === 'Revoked') return 'Revoked';
  if (other === 'OutOfDate' || other === 'OutOfDateConfigurationNeeded') {
    if (platform === 'UpToDate' || platform === 'SWHardeningNeeded') return 'OutOfDate';
    if (platform === 'ConfigurationNeeded' || platform === 'ConfigurationAndSWHardeningNeeded') return 'OutOfDateConfigurationNeeded';
  }
  return platform;
}

export function evaluateTdxTcb(quote: DcapQuote, pck: PckExtensions, tcbInfo: TcbInfo, qe: QeIdentity): TdxTcbEvaluation {
  const failures: AttestationFailure[] = [];
  const isTd = quote.body.kind !== 'sgx';
  const none = (f: AttestationFailure[]): TdxTcbEvaluation => ({ failures: f, status: undefined, advisoryIds: [], tcbDate: undefined });

  if (tcbInfo.fmspc !== toHex(pck.fmspc)) return none([failure('fmspc_mismatch', 'TCB info is for another platform (FMSPC)', toHex(pck.fmspc), tcbInfo.fmspc)]);
  if (tcbInfo.pceId !== toHex(pck.pceId)) return none([failure('fmspc_mismatch', 'TCB info is for another PCE-ID', toHex(pck.pceId), tcbInfo.pceId)]);
  if (isTd !== (tcbInfo.id === 'TDX')) return none([failure('collateral_invalid', `TCB info id "${tcbInfo.id}" does not match the quote's TEE type`)]);
  const expectedQeId = isTd ? 'TD_QE' : 'QE';
  if (qe.id !== expectedQeId) return none([failure('collateral_invalid', `QE identity id "${qe.id}" does not match the quote`, qe.id, expectedQeId)]);

  // QE identity (Intel's enclave identity check).
  const qr = quote.qeReportBody;
  if (toHex(qr.mrSigner) !== qe.mrSigner) failures.push(failure('qe_identity_mismatch', 'quoting enclave MRSIGNER is not Intel\'s', toHex(qr.mrSigner), qe.mrSigner));
  if (qr.isvProdId !== qe.isvProdId) failures.push(failure('qe_identity_mismatch', 'quoting enclave ISVPRODID differs', qr.isvProdId, qe.isvProdId));
  if (!maskedEqual(u32Hex(qr.miscSelect), qe.miscSelect, qe.miscSelectMask)) failures.push(failure('qe_identity_mismatch', 'quoting enclave MISCSELECT differs', u32Hex(qr.miscSelect), qe.miscSelect));
  if (!maskedEqual(toHex(qr.attributes), qe.attributes, qe.attributesMask)) failures.push(failure('qe_identity_mismatch', 'quoting enclave ATTRIBUTES differ', toHex(qr.attributes), qe.attributes));
  const qeLevel = isvLevel(qe.tcbLevels, qr.isvSvn);
  if (!qeLevel) failures.push(failure('qe_identity_mismatch', 'quoting enclave ISVSVN is below every QE identity level', qr.isvSvn, qe.tcbLevels.map((l) => l.isvSvn)));

  // TDX module identity.
  let moduleLevel: IsvLevel | undefined;
  let skipModuleComponents = false;
  if (quote.body.kind !== 'sgx') {
    const body = quote.body;
    if (tcbInfo.tdxModule && !maskedEqual(toHex(body.mrSignerSeam), tcbInfo.tdxModule.mrSigner, 'ff'.repeat(48))) {
      failures.push(failure('tcb_level_unsupported', 'TDX module MRSIGNERSEAM differs from TCB info', toHex(body.mrSignerSeam), tcbInfo.tdxModule.mrSigner));
    }
    const moduleMajor = body.teeTcbSvn[1]!;
    if (moduleMajor > 0 && tcbInfo.tdxModuleIdentities) {
      skipModuleComponents = true;
      const id = `TDX_${moduleMajor.toString(16).padStart(2, '0').toUpperCase()}`;
      const identity = tcbInfo.tdxModuleIdentities.find((m) => m.id.toUpperCase() === id);
      if (!identity) {
        failures.push(failure('tcb_level_unsupported', `TCB info has no TDX module identity ${id}`, id, tcbInfo.tdxModuleIdentities.map((m) => m.id)));
      } else {
        if (!maskedEqual(toHex(body.mrSignerSeam), identity.mrSigner, 'ff'.repeat(48))) failures.push(failure('tcb_level_unsupported', `TDX module MRSIGNERSEAM differs from ${id}`, toHex(body.mrSignerSeam), identity.mrSigner));
        if (!maskedEqual(toHex(body.seamAttributes), identity.attributes, identity.attributesMask)) failures.push(failure('tcb_level_unsupported', `SEAM attributes differ from ${id}`, toHex(body.seamAttributes), identity.attributes));
        moduleLevel = isvLevel(identity.tcbLevels, body.teeTcbSvn[0]!);
        if (!moduleLevel) failures.push(failure('tcb_level_unsupported', `TDX module SVN is below every ${id} level`, body.teeTcbSvn[0], identity.tcbLevels.map((l) => l.isvSvn)));
      }
    }
  }

  // Platform TCB level.
  const teeTcbSvn = quote.body.kind === 'sgx' ? undefined : quote.body.teeTcbSvn;
  const level = tcbInfo.tcbLevels.find((l) => {
    if (pck.pceSvn < l.pceSvn) return false;
    if (l.sgxComponents.some((svn, i) => (pck.sgxTcbComponents[i] ?? 0) < svn)) return false;
    if (teeTcbSvn) {
      if (!l.tdxComponents) return false;
      if (l.tdxComponents.some((svn, i) => !(skipModuleComponents && i < 2) && (teeTcbSvn[i] ?? 0) < svn)) return false;
    }
    return true;
  });
  if (!level) {
    failures.push(
      failure('tcb_level_unsupported', 'no TCB level in the TCB info matches this platform (TCB level not supported)', {
        sgxTcbComponents: pck.sgxTcbComponents,
        pceSvn: pck.pceSvn,
        ...(teeTcbSvn ? { teeTcbSvn: toHex(teeTcbSvn) } : {}),
      }),
    );
  }
  if (failures.length > 0 || !level || !qeLevel) return none(failures);

  let status = converge(level.tcbStatus, qeLevel.tcbStatus);
  if (moduleLevel) status = converge(status, moduleLevel.tcbStatus);
  const advisoryIds = [...new Set([...level.advisoryIds, ...qeLevel.advisoryIds, ...(moduleLevel?.advisoryIds ?? [])])];
  return { failures, status, advisoryIds, tcbDate: level.tcbDate };
}
