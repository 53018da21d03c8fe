import type { FastifyReply, FastifyRequest } from 'fastify';
import { scheduleAt } from '../../proto';
import { VeilError } from '../errors';
import type { CallContext } from '../grpc/call-context';

/**
 * One HTTP request's context: the same shape as a gRPC call's (`CallContext`), so handlers shared by both surfaces
 * (FHE) take it as is and `callerKey(context)` counts HTTP and gRPC calls of one caller alike.
 * - `requestId`: fastify's request id (generated, never taken from the client), sent as `x-request-id` on every reply;
 * - `signal`: aborted when the client disconnects before the answer is complete (reason: `cancelled`) or the deadline
 *   passes (reason: `deadline_exceeded`);
 * - `deadline`: now + `x-veil-deadline-ms` (1..maxDeadlineMs), else now + the configured default;
 * - `principal`: the API key id, set by the auth hook before any route runs (undefined when auth is off);
 * - `peer`: the socket's address (forwarding headers are not trusted).
 */
export type HttpCallContext = CallContext;

export type HttpDeadlines = { defaultMs: number; maxMs: number };

export const DEADLINE_HEADER = 'x-veil-deadline-ms';

const CONTEXTS = new WeakMap<FastifyRequest, HttpCallContext>();

/** The context of a request the server is handling; route modules call this instead of reading headers themselves. */
export function contextOf(request: FastifyRequest): HttpCallContext {
  const context = CONTEXTS.get(request);
  if (!context) throw new Error('contextOf: no call context (the request did not pass the HTTP server\'s onRequest hook)');
  return context;
}

/**
 * Creates and attaches the context (the server's first onRequest hook). It is disposed, and its signal aborted if the
 * reply was not complete, when the response closes — the one event Node emits for a finished answer, a client that
 * went away mid-answer, and a hijacked (SSE) reply alike.
 * @throws VeilError `invalid_argument` (after attaching, so the error reply still has the context) on a bad deadline header
 */
export function attachCallContext(request: FastifyRequest, reply: FastifyReply, deadlines: HttpDeadlines, now: () => number = Date.now): HttpCallContext {
  const controller = new AbortController();
  const asked = parseDeadlineHeader(request.headers[DEADLINE_HEADER], deadlines.maxMs);
  const deadline = now() + (typeof asked === 'number' ? asked : deadlines.defaultMs);
  const timer = scheduleAt(deadline, () => controller.abort(new VeilError('deadline_exceeded')));
  const context: HttpCallContext = {
    requestId: request.id,
    signal: controller.signal,
    deadline,
    principal: undefined,
    peer: socketPeer(request.socket.remoteAddress),
    payment: { signature: singleHeader(request.headers['payment-signature']), idempotencyKey: singleHeader(request.headers['idempotency-key']) },
    dispose: () => timer.cancel(),
  };
  CONTEXTS.set(request, context);
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new VeilError('cancelled', 'the client closed the connection'));
    context.dispose();
  });
  if (asked instanceof VeilError) throw asked;
  return context;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `x-veil-deadline-ms`: a relative budget in whole milliseconds; absent → undefined. */
function parseDeadlineHeader(value: string | string[] | undefined, maxMs: number): number | VeilError | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? '' : value.trim();
  const ms = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(ms >= 1 && ms <= maxMs)) {
    return new VeilError('invalid_argument', `${DEADLINE_HEADER} must be a whole number of milliseconds between 1 and ${maxMs}`, { param: DEADLINE_HEADER });
  }
  return ms;
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) → `10.0.0.1`, so one client has one peer key. */
function socketPeer(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
