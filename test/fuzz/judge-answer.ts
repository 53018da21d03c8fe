import { status as GrpcStatus } from '@grpc/grpc-js';
import { ERROR_SPECS, isErrorCode } from '../../gateway';
import { isTeeErrorCode } from '../../tee';
import { toTeeGrpcStatus } from '../../workers/tee';
import type { CaseRun } from './run-fuzz-case';
import type { WireAnswer } from './wire-client';

/** The pass criteria, by stable id (the ids KNOWN_DEFECTS lists). */
export const FUZZ_PROPERTIES = {
  no_crash: 'the server process never exits',
  typed_answer: 'every refusal carries a veil-error-code trailer holding a registered code',
  status_matches_code: 'the gRPC status of a refusal is the registry\'s status for its code',
  request_id: 'every refusal carries x-request-id',
  generic_internal_message: 'an internal error shows only the generic message',
  no_internal: 'bad input is refused with a code naming what is wrong, never internal',
  answered_in_time: 'every call is answered before its deadline',
  refuses_invalid: 'a request that is invalid by construction (replay, tampering, stale timestamp, foreign ciphertext, lying header, …) is never accepted',
  liveness: 'a valid request still succeeds afterwards (checked every N cases)',
  nodes_stay_healthy: 'client traffic never quarantines a TEE node',
  rss_bounded: 'RSS stays under the stated bound',
} as const;
export type FuzzProperty = keyof typeof FUZZ_PROPERTIES;

export type Violation = { property: FuzzProperty; detail: string };

/** Which error registry a server answers from: the gateway's public codes, or a TEE node's codes. */
export type ErrorRegistry = 'gateway' | 'worker';

const GENERIC_INTERNAL = ERROR_SPECS.internal.message;

/** The table's column for an answer: `ok`, the Veil code, or what an untyped or client-side answer was. */
export function outcomeOf(answer: WireAnswer): string {
  if (answer.local) return answer.status === GrpcStatus.DEADLINE_EXCEEDED ? 'client deadline' : 'client cancelled';
  if (answer.status === GrpcStatus.OK) return 'ok';
  return answer.veilCode ?? `untyped ${GrpcStatus[answer.status] ?? answer.status}`;
}

function expectedStatus(registry: ErrorRegistry, code: string): GrpcStatus | undefined {
  if (registry === 'gateway') return isErrorCode(code) ? ERROR_SPECS[code].grpc : undefined;
  return isTeeErrorCode(code) ? toTeeGrpcStatus({ code, message: '' }).code : undefined;
}

/** Judges one answer against every per-answer property. An answer the client produced itself on cancel is not judged. */
export function judgeAnswer(run: CaseRun, registry: ErrorRegistry): Violation[] {
  const { answer } = run;
  const out: Violation[] = [];
  const summary = `${GrpcStatus[answer.status] ?? answer.status} "${answer.details.slice(0, 160)}"`;
  if (answer.local) {
    if (answer.status === GrpcStatus.DEADLINE_EXCEEDED) out.push({ property: 'answered_in_time', detail: `no answer within the deadline (${Math.round(answer.ms)} ms)` });
    return out;
  }
  if (answer.status === GrpcStatus.OK) {
    if (run.mustRefuse) out.push({ property: 'refuses_invalid', detail: `accepted ${run.mustRefuse}` });
    return out;
  }
  const code = answer.veilCode;
  const expected = code === undefined ? undefined : expectedStatus(registry, code);
  if (code === undefined || expected === undefined) {
    out.push({ property: 'typed_answer', detail: code === undefined ? `${summary} without veil-error-code` : `unregistered code "${code}" (${summary})` });
  } else if (expected !== answer.status) {
    out.push({ property: 'status_matches_code', detail: `${code} answered as ${GrpcStatus[answer.status]}, registry says ${GrpcStatus[expected]}` });
  }
  if (!answer.requestId) out.push({ property: 'request_id', detail: `${summary} without x-request-id` });
  if (code === 'internal') {
    out.push({ property: 'no_internal', detail: `internal (${summary})` });
    if (answer.details !== GENERIC_INTERNAL) out.push({ property: 'generic_internal_message', detail: `internal error shows "${answer.details.slice(0, 200)}"` });
  }
  return out;
}
