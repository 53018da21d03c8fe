/**
 * Version-2 ("operation") bodies inside sealed frames (issue #10): the OpenAI request and response JSON travel as
 * opaque byte strings, so the enclave (never the relay) parses them. CBOR arrays like version 1, same strict decoding.
 *
 *   request  = [2, request_id: bstr(16), timestamp_ms: uint, model_id: tstr, operation: tstr, body: bstr]
 *   response = [2, request_id: bstr(16), body: bstr, compute_micros: uint]
 *   event    = [2, request_id: bstr(16), index: uint, kind: tstr, body: bstr]
 */
import {
  BODY_VERSION, MODEL_ID_PATTERN, OPERATION_BODY_VERSION, STREAM_EVENT_KINDS, TEE_OPERATIONS,
  type TeeOperation, type TeeStreamEventKind,
} from './tee-protocol';
import { TeeError } from './tee-error';
import { bodyEncoder as encoder, decodeBodyArray, decodeTeeRequestBody, requestId as requestIdOf, type TeeRequestBody } from './tee-body-codec';

export type TeeOperationRequestBody = { requestId: Uint8Array; timestampMs: number; modelId: string; operation: TeeOperation; body: Uint8Array };
export type TeeOperationResponseBody = { requestId: Uint8Array; body: Uint8Array; computeMicros: number };
export type TeeStreamEventBody = { requestId: Uint8Array; index: number; kind: TeeStreamEventKind; body: Uint8Array };

/** What a node finds inside a request: a version-1 tensor body or a version-2 operation body. */
export type AnyTeeRequestBody = ({ version: 1 } & TeeRequestBody) | ({ version: 2 } & TeeOperationRequestBody);

function bad(message: string): never {
  throw new TeeError('invalid_input', message);
}

const decodeArray = (bytes: Uint8Array, length: number, what: string) => decodeBodyArray(bytes, length, what, OPERATION_BODY_VERSION);

function bytesOf(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) bad(`${what} must be a byte string`);
  return new Uint8Array(value);
}

export function isTeeOperation(value: unknown): value is TeeOperation {
  return typeof value === 'string' && (TEE_OPERATIONS as readonly string[]).includes(value);
}

export function encodeTeeOperationRequest(body: TeeOperationRequestBody): Uint8Array {
  if (!isTeeOperation(body.operation)) bad(`operation must be one of ${TEE_OPERATIONS.join(', ')}`);
  return encoder.encode([OPERATION_BODY_VERSION, body.requestId, body.timestampMs, body.modelId, body.operation, body.body]);
}

/** @throws {TeeError} `invalid_input` */
export function decodeTeeOperationRequest(bytes: Uint8Array): TeeOperationRequestBody {
  const [, id, ts, modelId, operation, body] = decodeArray(bytes, 6, 'request');
  if (!Number.isSafeInteger(ts) || (ts as number) < 0) bad('request timestamp must be a non-negative integer (ms)');
  if (typeof modelId !== 'string' || !MODEL_ID_PATTERN.test(modelId)) bad('request model id is invalid');
  if (!isTeeOperation(operation)) bad(`operation must be one of ${TEE_OPERATIONS.join(', ')}`);
  return { requestId: requestIdOf(id), timestampMs: ts as number, modelId, operation, body: bytesOf(body, 'request body') };
}

/**
 * Decodes either body version, judged by its first element, so one node serves tensor models and language models
 * over the same frames. @throws {TeeError} `invalid_input`
 */
export function decodeAnyTeeRequestBody(bytes: Uint8Array): AnyTeeRequestBody {
  // The version is the array's first item: 0x85/0x86 (array of 5/6) then 0x01/0x02. Anything else fails in a decoder.
  const version = bytes.byteLength >= 2 ? bytes[1] : undefined;
  if (version === OPERATION_BODY_VERSION) return { version: 2, ...decodeTeeOperationRequest(bytes) };
  if (version !== BODY_VERSION) bad(`request body must be a version ${BODY_VERSION} or ${OPERATION_BODY_VERSION} array`);
  return { version: 1, ...decodeTeeRequestBody(bytes) };
}

export function encodeTeeOperationResponse(body: TeeOperationResponseBody): Uint8Array {
  return encoder.encode([OPERATION_BODY_VERSION, body.requestId, body.body, Math.max(0, Math.round(body.computeMicros))]);
}

/** @throws {TeeError} `invalid_input` */
export function decodeTeeOperationResponse(bytes: Uint8Array): TeeOperationResponseBody {
  const [, id, body, micros] = decodeArray(bytes, 4, 'response');
  if (!Number.isSafeInteger(micros) || (micros as number) < 0) bad('response compute time must be a non-negative integer');
  return { requestId: requestIdOf(id), body: bytesOf(body, 'response body'), computeMicros: micros as number };
}

export function encodeTeeStreamEvent(event: TeeStreamEventBody): Uint8Array {
  return encoder.encode([OPERATION_BODY_VERSION, event.requestId, event.index, event.kind, event.body]);
}

/** @throws {TeeError} `invalid_input` */
export function decodeTeeStreamEvent(bytes: Uint8Array): TeeStreamEventBody {
  const [, id, index, kind, body] = decodeArray(bytes, 5, 'stream event');
  if (!Number.isSafeInteger(index) || (index as number) < 0) bad('stream event index must be a non-negative integer');
  if (typeof kind !== 'string' || !(STREAM_EVENT_KINDS as readonly string[]).includes(kind)) bad(`stream event kind must be one of ${STREAM_EVENT_KINDS.join(', ')}`);
  return { requestId: requestIdOf(id), index: index as number, kind: kind as TeeStreamEventKind, body: bytesOf(body, 'stream event body') };
}
