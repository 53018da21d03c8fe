/**
 * Typed readers for the signed JSON inside TDX collateral (Intel PCS TCB Info v3, Enclave Identity v2).
 * Run only after the signature over the exact text has been checked.
 */
import { TDX_TCB_STATUSES, type TdxTcbStatus } from '../claims';
import { AttestationError } from '../errors';

export interface TcbLevel {
  sgxComponents: number[];
  pceSvn: number;
  /** TDX TCB info only. */
  tdxComponents: number[] | undefined;
  tcbDate: string;
  tcbStatus: TdxTcbStatus;
  advisoryIds: string[];
}

export interface IsvLevel {
  isvSvn: number;
  tcbDate: string;
  tcbStatus: TdxTcbStatus;
  advisoryIds: string[];
}

export interface TdxModuleIdentity {
  id: string;
  mrSigner: string;
  attributes: string;
  attributesMask: string;
  tcbLevels: IsvLevel[];
}

export interface TcbInfo {
  id: string;
  version: number;
  issueDate: Date;
  nextUpdate: Date;
  fmspc: string;
  pceId: string;
  tcbEvaluationDataNumber: number | undefined;
  tdxModule: { mrSigner: string; attributes: string; attributesMask: string } | undefined;
  tdxModuleIdentities: TdxModuleIdentity[] | undefined;
  tcbLevels: TcbLevel[];
}

export interface QeIdentity {
  id: string;
  version: number;
  issueDate: Date;
  nextUpdate: Date;
  miscSelect: string;
  miscSelectMask: string;
  attributes: string;
  attributesMask: string;
  mrSigner: string;
  isvProdId: number;
  tcbLevels: IsvLevel[];
}

type Obj = Record<string, unknown>;

function bad(what: string): AttestationError {
  return new AttestationError('invalid_collateral', `collateral: ${what}`);
}
function obj(v: unknown, what: string): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(`${what} must be an object`);
  return v as Obj;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw bad(`${what} must be an array`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(`${what} must be a string`);
  return v;
}
function hex(v: unknown, what: string): string {
  const s = str(v, what);
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw bad(`${what} must be hex`);
  return s.toLowerCase();
}
function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} must be a non-negative integer`);
  return v;
}
function date(v: unknown, what: string): Date {
  const d = new Date(str(v, what));
  if (Number.isNaN(d.getTime())) throw bad(`${what} must be an ISO date`);
  return d;
}
function status(v: unknown, what: string): TdxTcbStatus {
  const s = str(v, what);
  if (!(TDX_TCB_STATUSES as readonly string[]).includes(s)) throw bad(`${what} "${s}" is not a known TCB status`);
  return s as TdxTcbStatus;
}
function advisories(v: unknown, what: string): string[] {
  return v === undefined ? [] : arr(v, what).map((a, i) => str(a, `${what}[${i}]`));
}
function svns(v: unknown, what: string): number[] {
  const list = arr(v, what).map((c, i) => int(obj(c, `${what}[${i}]`).svn, `${what}[${i}].svn`));
  if (list.length !== 16) throw bad(`${what} must have 16 components`);
  return list;
}
function isvLevels(v: unknown, what: string): IsvLevel[] {
  return arr(v, what).map((l, i) => {
    const level = obj(l, `${what}[${i}]`);
    return {
      isvSvn: int(obj(level.tcb, `${what}[${i}].tcb`).isvsvn, `${what}[${i}].tcb.isvsvn`),
      tcbDate: str(level.tcbDate, `${what}[${i}].tcbDate`),
      tcbStatus: status(level.tcbStatus, `${what}[${i}].tcbStatus`),
      advisoryIds: advisories(level.advisoryIDs, `${what}[${i}].advisoryIDs`),
    };
  });
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad(`${what} is not valid JSON`);
  }
}

export function readTcbInfo(text: string): TcbInfo {
  const t = obj(json(text, 'tcbInfo'), 'tcbInfo');
  const version = int(t.version, 'tcbInfo.version');
  if (version < 3) throw bad(`tcbInfo version ${version} is not supported (need 3)`);
  const mod = t.tdxModule === undefined ? undefined : obj(t.tdxModule, 'tcbInfo.tdxModule');
  return {
    id: str(t.id, 'tcbInfo.id'),
    version,
    issueDate: date(t.issueDate, 'tcbInfo.issueDate'),
    nextUpdate: date(t.nextUpdate, 'tcbInfo.nextUpdate'),
    fmspc: hex(t.fmspc, 'tcbInfo.fmspc'),
    pceId: hex(t.pceId, 'tcbInfo.pceId'),
    tcbEvaluationDataNumber: t.tcbEvaluationDataNumber === undefined ? undefined : int(t.tcbEvaluationDataNumber, 'tcbInfo.tcbEvaluationDataNumber'),
    tdxModule: mod && {
      mrSigner: hex(mod.mrsigner, 'tdxModule.mrsigner'),
      attributes: hex(mod.attributes, 'tdxModule.attributes'),
      attributesMask: hex(mod.attributesMask, 'tdxModule.attributesMask'),
    },
    tdxModuleIdentities:
      t.tdxModuleIdentities === undefined
        ? undefined
        : arr(t.tdxModuleIdentities, 'tdxModuleIdentities').map((m, i) => {
            const id = obj(m, `tdxModuleIdentities[${i}]`);
            return {
              id: str(id.id, `tdxModuleIdentities[${i}].id`),
              mrSigner: hex(id.mrsigner, `tdxModuleIdentities[${i}].mrsigner`),
              attributes: hex(id.attributes, `tdxModuleIdentities[${i}].attributes`),
              attributesMask: hex(id.attributesMask, `tdxModuleIdentities[${i}].attributesMask`),
              tcbLevels: isvLevels(id.tcbLevels, `tdxModuleIdentities[${i}].tcbLevels`),
            };
          }),
    tcbLevels: arr(t.tcbLevels, 'tcbInfo.tcbLevels').map((l, i) => {
      const level = obj(l, `tcbLevels[${i}]`);
      const tcb = obj(level.tcb, `tcbLevels[${i}].tcb`);
      return {
        sgxComponents: svns(tcb.sgxtcbcomponents, `tcbLevels[${i}].tcb.sgxtcbcomponents`),
        pceSvn: int(tcb.pcesvn, `tcbLevels[${i}].tcb.pcesvn`),
        tdxComponents: tcb.tdxtcbcomponents === undefined ? undefined : svns(tcb.tdxtcbcomponents, `tcbLevels[${i}].tcb.tdxtcbcomponents`),
        tcbDate: str(level.tcbDate, `tcbLevels[${i}].tcbDate`),
        tcbStatus: status(level.tcbStatus, `tcbLevels[${i}].tcbStatus`),
        advisoryIds: advisories(level.advisoryIDs, `tcbLevels[${i}].advisoryIDs`),
      };
    }),
  };
}

export function readQeIdentity(text: string): QeIdentity {
  const q = obj(json(text, 'qeIdentity'), 'qeIdentity');
  return {
    id: str(q.id, 'qeIdentity.id'),
    version: int(q.version, 'qeIdentity.version'),
    issueDate: date(q.issueDate, 'qeIdentity.issueDate'),
    nextUpdate: date(q.nextUpdate, 'qeIdentity.nextUpdate'),
    miscSelect: hex(q.miscselect, 'qeIdentity.miscselect'),
    miscSelectMask: hex(q.miscselectMask, 'qeIdentity.miscselectMask'),
    attributes: hex(q.attributes, 'qeIdentity.attributes'),
    attributesMask: hex(q.attributesMask, 'qeIdentity.attributesMask'),
    mrSigner: hex(q.mrsigner, 'qeIdentity.mrsigner'),
    isvProdId: int(q.isvprodid, 'qeIdentity.isvprodid'),
    tcbLevels: isvLevels(q.tcbLevels, 'qeIdentity.tcbLevels'),
  };
}
