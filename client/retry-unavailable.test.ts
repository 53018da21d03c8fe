import { status } from '@grpc/grpc-js';
import { isUnavailable, retryUnavailable } from './retry-unavailable';
import { VeilClientError } from './veil-client-error';

const gone = () => new VeilClientError('unavailable', 'connection refused', status.UNAVAILABLE);
const policy = { attempts: 3, backoffMs: 1 };

test('UNAVAILABLE is sent again until an attempt succeeds, within the attempts', async () => {
  const seen: number[] = [];
  await expect(retryUnavailable(async (n) => {
    seen.push(n);
    if (n < 2) throw gone();
    return 'served';
  }, policy)).resolves.toBe('served');
  expect(seen).toEqual([0, 1, 2]);
  // A draining replica's own refusal is UNAVAILABLE too (with its Veil code); over HTTP the SDK's `unavailable` has no gRPC status.
  expect(isUnavailable(new VeilClientError('shutting_down', 'draining', status.UNAVAILABLE))).toBe(true);
  expect(isUnavailable(new VeilClientError('unavailable', 'the gateway cannot be reached'))).toBe(true);
});

test('error: any other failure, the last UNAVAILABLE, or an abort is not retried', async () => {
  let calls = 0;
  await expect(retryUnavailable(async () => {
    calls++;
    throw new VeilClientError('voucher_insufficient', 'pay more', status.FAILED_PRECONDITION);
  }, policy)).rejects.toMatchObject({ code: 'voucher_insufficient' });
  expect(calls).toBe(1);
  calls = 0;
  await expect(retryUnavailable(async () => {
    calls++;
    throw gone();
  }, policy)).rejects.toMatchObject({ code: 'unavailable' });
  expect(calls).toBe(3);
  const controller = new AbortController();
  controller.abort();
  calls = 0;
  await expect(retryUnavailable(async () => {
    calls++;
    throw gone();
  }, policy, controller.signal)).rejects.toMatchObject({ code: 'unavailable' });
  expect(calls).toBe(1);
});
