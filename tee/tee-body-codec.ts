/**
 * The plaintext bodies inside sealed frames, as CBOR arrays (RFC 8949; cbor-x with records and typed-array
 * tags off, so the bytes are plain CBOR any implementation can read). Tensor data is a byte string of
 * little-endian float32, never a list of numbers. Decoding is strict: any deviation is `invalid_input`.
 *
 *   request  = [1, request_id: bstr(16), timestamp_ms: uint, model_id: tstr, tensors]
 *   response = [1, request_id: bstr(16), tensors, compute_micros: uint]
 *   tensors  = [* [name: tstr, dims: [* uint], data: bstr]]
 */
import { Decoder, Encoder } from 'cbor-x';
import { BODY_VERSION, MODEL_ID_PATTERN, REQUEST_ID_BYTES } from './tee-protocol';
import { TeeError } from './tee-error';
import { float32Bytes, float32FromBytes, validateTensorMap, MAX_RANK, MAX_TENSORS, type TeeTensorMap } from './tee-tensors';

export type TeeRequestBody = { requestId: Uint8Array; timestampMs: number; modelId: string; inputs: TeeTensorMap };
export type TeeResponseBody = { requestId: Uint8Array; outputs: TeeTensorMap; computeMicros: number };

const OPTIONS = { useRecords: false, tagUint8Array: false, structuredClone: false, pack: false, mapsAsObjects: false, useTag259ForMaps: false } as const;
/** The one CBOR setup of every sealed body (version 1 here, version 2 in tee-operation-codec.ts). @internal */
export const bodyEncoder = new Encoder(OPTIONS);
const encoder = bodyEncoder;
const decoder = new Decoder(OPTIONS);

function encodeTensors(tensors: TeeTensorMap): unknown[] {
  return Object.entries(tensors).map(([name, t]) => [name, [...t.dims], float32Bytes(t.data)]);
}

function bad(message: string): never {
  throw new TeeError('invalid_input', message);
}

function decodeTensors(value: unknown, what: 'input' | 'output'): TeeTensorMap {
  if (!Array.isArray(value) || value.length > MAX_TENSORS) bad(`${what} tensors must be an array of at most ${MAX_TENSORS}`);
  const out: TeeTensorMap = Object.create(null) as TeeTensorMap;
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length !== 3) bad(`each ${what} tensor must be [name, dims, data]`);
    const [name, dims, data] = entry as [unknown, unknown, unknown];
    if (typeof name !== 'string') bad(`${what} tensor names must be strings`);
    if (Object.hasOwn(out, name)) bad(`${what} tensor "${name}" appears twice`);
    if (!Array.isArray(dims) || dims.length > MAX_RANK || !dims.every((d) => Number.isSafeInteger(d))) bad(`${what} "${name}" dims must be integers`);
    if (!(data instanceof Uint8Array)) bad(`${what} "${name}" data must be a byte string`);
    out[name] = { dims: dims as number[], data: float32FromBytes(data, name) };
  }
  validateTensorMap(out, what);
  return out;
}

/** @internal */
export function requestId(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength !== REQUEST_ID_BYTES) bad(`request id must be ${REQUEST_ID_BYTES} bytes`);
  return new Uint8Array(value);
}

/** Strict decoding of a body: CBOR, an array of exactly `length` items, first item `version`. @internal @throws {TeeError} `invalid_input` */
export function decodeBodyArray(bytes: Uint8Array, length: number, what: string, version = BODY_VERSION): unknown[] {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch {
    bad(`${what} body is not valid CBOR`);
  }
  if (!Array.isArray(value) || value.length !== length || value[0] !== version) bad(`${what} body must be a version ${version} array of ${length}`);
  return value;
}

const decodeArray = (bytes: Uint8Array, length: number, what: string) => decodeBodyArray(bytes, length, what);

export function encodeTeeRequestBody(body: TeeRequestBody): Uint8Array {
  validateTensorMap(body.inputs, 'input');
  return encoder.encode([BODY_VERSION, body.requestId, body.timestampMs, body.modelId, encodeTensors(body.inputs)]);
}

/** @throws {TeeError} `invalid_input` */
export function decodeTeeRequestBody(bytes: Uint8Array): TeeRequestBody {
  const [, id, ts, modelId, inputs] = decodeArray(bytes, 5, 'request');
  if (!Number.isSafeInteger(ts) || (ts as number) < 0) bad('request timestamp must be a non-negative integer (ms)');
  if (typeof modelId !== 'string' || !MODEL_ID_PATTERN.test(modelId)) bad('request model id is invalid');
  return { requestId: requestId(id), timestampMs: ts as number, modelId, inputs: decodeTensors(inputs, 'input') };
}

export function encodeTeeResponseBody(body: TeeResponseBody): Uint8Array {
  return encoder.encode([BODY_VERSION, body.requestId, encodeTensors(body.outputs), Math.max(0, Math.round(body.computeMicros))]);
}

/** @throws {TeeError} `invalid_input` */
export function decodeTeeResponseBody(bytes: Uint8Array): TeeResponseBody {
  const [, id, outputs, micros] = decodeArray(bytes, 4, 'response');
  if (!Number.isSafeInteger(micros)) bad('response compute time must be an integer');
  return { requestId: requestId(id), outputs: decodeTensors(outputs, 'output'), computeMicros: micros as number };
}
