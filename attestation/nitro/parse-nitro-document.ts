/**
 * AWS Nitro Enclaves attestation document (COSE_Sign1 over a CBOR payload) → typed structure.
 * Accepts the COSE tag 18 or its absence, indefinite-length maps, and `null` optional fields;
 * public_key/user_data/nonce may be up to 1024 bytes (the NSM CDDL limit, not the 512 of the prose).
 * Docs: https://github.com/aws/aws-nitro-enclaves-nsm-api/blob/main/docs/attestation_process.md
 */
import { Decoder, Tag } from 'cbor-x';
import { AttestationError } from '../errors';

export const NITRO_MAX_OPTIONAL_FIELD = 1024;

export interface NitroDocument {
  /** Exact bytes of the protected header bstr (signed as-is). */
  protectedHeader: Uint8Array;
  /** COSE algorithm from the protected header (-35 = ES384). */
  algorithm: number | undefined;
  /** Exact payload bytes (signed as-is). */
  payload: Uint8Array;
  signature: Uint8Array;
  moduleId: string;
  digest: string;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  pcrs: Map<number, Uint8Array>;
  certificate: Uint8Array;
  /** cabundle[0] is the root, then intermediates towards the leaf. */
  cabundle: Uint8Array[];
  publicKey: Uint8Array | undefined;
  userData: Uint8Array | undefined;
  nonce: Uint8Array | undefined;
}

// Maps as Map so integer keys (COSE labels, PCR indices) stay integers; no cbor-x record extension.
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

function malformed(message: string, details?: Record<string, unknown>): AttestationError {
  return new AttestationError('malformed_evidence', `Nitro attestation document: ${message}`, details);
}

function decode(bytes: Uint8Array, what: string): unknown {
  try {
    return decoder.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (cause) {
    throw new AttestationError('malformed_evidence', `Nitro attestation document: ${what} is not valid CBOR`, undefined, { cause });
  }
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function bytesField(map: Map<unknown, unknown>, key: string): Uint8Array {
  const v = map.get(key);
  if (!isBytes(v)) throw malformed(`${key} must be a byte string`);
  return new Uint8Array(v);
}

function optionalBytes(map: Map<unknown, unknown>, key: string): Uint8Array | undefined {
  const v = map.get(key);
  if (v === undefined || v === null) return undefined;
  if (!isBytes(v)) throw malformed(`${key} must be a byte string or null`);
  if (v.length > NITRO_MAX_OPTIONAL_FIELD) throw malformed(`${key} exceeds ${NITRO_MAX_OPTIONAL_FIELD} bytes`, { length: v.length });
  return new Uint8Array(v);
}

function textField(map: Map<unknown, unknown>, key: string): string {
  const v = map.get(key);
  if (typeof v !== 'string' || v.length === 0) throw malformed(`${key} must be a non-empty text string`);
  return v;
}

/**
 * @throws {AttestationError} `malformed_evidence` for anything that is not a well-formed document.
 * @example const doc = parseNitroDocument(cborBytes); doc.pcrs.get(0)
 */
export function parseNitroDocument(bytes: Uint8Array): NitroDocument {
  let outer = decode(bytes, 'COSE_Sign1');
  if (outer instanceof Tag) {
    if (outer.tag !== 18) throw malformed(`unexpected CBOR tag ${outer.tag}`);
    outer = outer.value;
  }
  if (!Array.isArray(outer) || outer.length !== 4) throw malformed('COSE_Sign1 must be a 4-element array');
  const [protectedHeader, unprotected, payload, signature] = outer as unknown[];
  if (!isBytes(protectedHeader) || !isBytes(payload) || !isBytes(signature)) throw malformed('COSE_Sign1 fields have the wrong types');
  if (!(unprotected instanceof Map)) throw malformed('COSE unprotected header must be a map');

  const header = protectedHeader.length === 0 ? new Map() : decode(protectedHeader, 'protected header');
  if (!(header instanceof Map)) throw malformed('protected header must be a map');
  const alg = header.get(1);

  const body = decode(payload, 'payload');
  if (!(body instanceof Map)) throw malformed('payload must be a map');

  const ts = body.get('timestamp');
  const timestamp = typeof ts === 'bigint' ? Number(ts) : ts;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp <= 0) throw malformed('timestamp must be a positive integer');

  const rawPcrs = body.get('pcrs');
  if (!(rawPcrs instanceof Map) || rawPcrs.size === 0 || rawPcrs.size > 32) throw malformed('pcrs must be a map of 1..32 entries');
  const pcrs = new Map<number, Uint8Array>();
  for (const [k, v] of rawPcrs) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 31) throw malformed('PCR index out of range');
    if (!isBytes(v) || ![32, 48, 64].includes(v.length)) throw malformed(`PCR${k} must be 32, 48 or 64 bytes`);
    pcrs.set(k, new Uint8Array(v));
  }

  const bundle = body.get('cabundle');
  if (!Array.isArray(bundle) || bundle.length === 0 || !bundle.every(isBytes)) throw malformed('cabundle must be a non-empty array of byte strings');

  return {
    protectedHeader: new Uint8Array(protectedHeader),
    algorithm: typeof alg === 'number' ? alg : undefined,
    payload: new Uint8Array(payload),
    signature: new Uint8Array(signature),
    moduleId: textField(body, 'module_id'),
    digest: textField(body, 'digest'),
    timestamp,
    pcrs,
    certificate: bytesField(body, 'certificate'),
    cabundle: (bundle as Uint8Array[]).map((c) => new Uint8Array(c)),
    publicKey: optionalBytes(body, 'public_key'),
    userData: optionalBytes(body, 'user_data'),
    nonce: optionalBytes(body, 'nonce'),
  };
}
