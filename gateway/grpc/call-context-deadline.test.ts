import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call';
import { callerKey, createCallContext, peerHost } from './call-context';

/** The part of a grpc-js server call the context reads. */
function fakeCall(deadline: Date | number, metadata = new Metadata()): ServerSurfaceCall {
  return Object.assign(new EventEmitter(), { getDeadline: () => deadline, getPeer: () => 'ipv4:10.0.0.7:5555', metadata }) as unknown as ServerSurfaceCall;
}

const DAY = 24 * 3600 * 1000;

describe('createCallContext', () => {
  test('a deadline 30 days away does not abort the call at once (setTimeout overflow)', async () => {
    const context = createCallContext(fakeCall(new Date(Date.now() + 30 * DAY)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(context.signal.aborted).toBe(false);
    context.dispose();
  });

  test('a near deadline and a client cancel abort the signal; no deadline never does', async () => {
    const near = createCallContext(fakeCall(new Date(Date.now() + 10)));
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(near.signal.aborted).toBe(true);
    const call = fakeCall(Number.POSITIVE_INFINITY);
    const none = createCallContext(call);
    expect(none.deadline).toBe(0);
    call.emit('cancelled');
    expect(none.signal.aborted).toBe(true);
    none.dispose();
    expect((call as unknown as EventEmitter).listenerCount('cancelled')).toBe(0);
  });

  test('peer and caller key', () => {
    const context = createCallContext(fakeCall(Number.POSITIVE_INFINITY));
    expect(context.peer).toBe('10.0.0.7');
    expect(callerKey(context)).toBe('peer:10.0.0.7');
    expect(callerKey({ principal: 'k1', peer: 'x' })).toBe('key:k1');
    expect(peerHost('ipv6:[::1]:5')).toBe('::1');
  });

  test('payment-signature and idempotency-key come from metadata; a repeated one counts as absent', () => {
    const metadata = new Metadata();
    metadata.set('payment-signature', 'c2ln');
    metadata.set('idempotency-key', 'k1');
    const context = createCallContext(fakeCall(0, metadata));
    expect(context.payment).toEqual({ signature: 'c2ln', idempotencyKey: 'k1' });
    context.dispose();
    metadata.add('payment-signature', 'b3RoZXI=');
    const twice = createCallContext(fakeCall(0, metadata));
    expect(twice.payment.signature).toBeUndefined();
    twice.dispose();
  });
});
