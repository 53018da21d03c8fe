/**
 * TDX collateral: Intel PCS TCB Info and QE Identity (each with the exact signed JSON bytes, the
 * P-256 signature and its issuer chain) plus the PCK and root CA CRLs.
 *
 * Accepted inputs:
 * - the canonical object below (what envelopes carry);
 * - the dcap-qvl JSON format (snake_case keys, CRLs as hex DER, signatures as hex r‖s);
 * - Intel PCS response files (see `collateralFromPcsResponses`).
 * Signatures are always checked over the string bytes as given — never over re-serialised JSON.
 */
import { AttestationError } from '../errors';

export interface TdxCollateral {
  /** Exact JSON text of the `tcbInfo` object that Intel signed. */
  tcbInfo: string;
  /** Hex r‖s (64 bytes) ECDSA P-256 over SHA-256(tcbInfo). */
  tcbInfoSignature: string;
  /** PEM chain: TCB Signing cert, then Intel SGX Root CA. */
  tcbInfoIssuerChain: string;
  qeIdentity: string;
  qeIdentitySignature: string;
  qeIdentityIssuerChain: string;
  /** Hex DER of the PCK CRL (Platform or Processor CA), optional. */
  pckCrl?: string;
  pckCrlIssuerChain?: string;
  /** Hex DER of the Intel SGX Root CA CRL, optional. */
  rootCaCrl?: string;
}

const REQUIRED = ['tcbInfo', 'tcbInfoSignature', 'tcbInfoIssuerChain', 'qeIdentity', 'qeIdentitySignature', 'qeIdentityIssuerChain'] as const;
const SNAKE: Record<string, keyof TdxCollateral> = {
  tcb_info: 'tcbInfo',
  tcb_info_signature: 'tcbInfoSignature',
  tcb_info_issuer_chain: 'tcbInfoIssuerChain',
  qe_identity: 'qeIdentity',
  qe_identity_signature: 'qeIdentitySignature',
  qe_identity_issuer_chain: 'qeIdentityIssuerChain',
  pck_crl: 'pckCrl',
  pck_crl_issuer_chain: 'pckCrlIssuerChain',
  root_ca_crl: 'rootCaCrl',
};

/**
 * Normalises collateral from the canonical or the dcap-qvl form.
 * @throws {AttestationError} `invalid_collateral` naming the missing or mistyped field.
 */
export function parseTdxCollateral(input: unknown): TdxCollateral {
  const value = typeof input === 'string' ? safeJson(input) : input;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new AttestationError('invalid_collateral', 'TDX collateral must be a JSON object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = SNAKE[k] ?? k;
    if (!(Object.values(SNAKE) as string[]).includes(key)) continue;
    if (typeof v !== 'string') throw new AttestationError('invalid_collateral', `TDX collateral field ${k} must be a string`);
    out[key] = v;
  }
  for (const k of REQUIRED) if (!out[k]) throw new AttestationError('invalid_collateral', `TDX collateral field ${k} is missing`);
  return out as unknown as TdxCollateral;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AttestationError('invalid_collateral', 'TDX collateral is not valid JSON', undefined, { cause });
  }
}

/**
 * The exact text of `"key": { … }` in a PCS response body. Intel signs those bytes, so we slice the
 * body rather than re-serialise a parsed object. The scan honours JSON strings and escapes.
 */
export function extractSignedObject(body: string, key: string): string {
  const marker = body.indexOf(`"${key}"`);
  if (marker < 0) throw new AttestationError('invalid_collateral', `PCS response has no "${key}" field`);
  const start = body.indexOf('{', marker);
  if (start < 0) throw new AttestationError('invalid_collateral', `PCS response "${key}" is not an object`);
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return body.slice(start, i + 1);
  }
  throw new AttestationError('invalid_collateral', `PCS response "${key}" object is not terminated`);
}

export interface PcsResponses {
  /** Body of GET /tdx/certification/v4/tcb: `{"tcbInfo":{…},"signature":"…"}`. */
  tcbInfoResponse: string;
  /** Body of GET /tdx/certification/v4/qe/identity: `{"enclaveIdentity":{…},"signature":"…"}`. */
  qeIdentityResponse: string;
  /** `TCB-Info-Issuer-Chain` header (URL-decoded PEM). */
  tcbInfoIssuerChain: string;
  /** `SGX-Enclave-Identity-Issuer-Chain` header; Intel uses the TCB signing chain. Defaults to tcbInfoIssuerChain. */
  qeIdentityIssuerChain?: string;
  pckCrl?: Uint8Array;
  pckCrlIssuerChain?: string;
  rootCaCrl?: Uint8Array;
}

export function collateralFromPcsResponses(r: PcsResponses): TdxCollateral {
  const sig = (body: string, what: string) => {
    const parsed = safeJson(body) as { signature?: unknown };
    if (typeof parsed?.signature !== 'string') throw new AttestationError('invalid_collateral', `${what} response has no signature`);
    return parsed.signature;
  };
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const out: TdxCollateral = {
    tcbInfo: extractSignedObject(r.tcbInfoResponse, 'tcbInfo'),
    tcbInfoSignature: sig(r.tcbInfoResponse, 'TCB info'),
    tcbInfoIssuerChain: r.tcbInfoIssuerChain,
    qeIdentity: extractSignedObject(r.qeIdentityResponse, 'enclaveIdentity'),
    qeIdentitySignature: sig(r.qeIdentityResponse, 'QE identity'),
    qeIdentityIssuerChain: r.qeIdentityIssuerChain ?? r.tcbInfoIssuerChain,
  };
  if (r.pckCrl) out.pckCrl = hex(r.pckCrl);
  if (r.pckCrlIssuerChain) out.pckCrlIssuerChain = r.pckCrlIssuerChain;
  if (r.rootCaCrl) out.rootCaCrl = hex(r.rootCaCrl);
  return out;
}
