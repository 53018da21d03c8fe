import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { VeilClientError } from './veil-client-error';

/**
 * A client interceptor that sends `authorization: Bearer <apiKey>` with every call. An interceptor rather than call
 * credentials: grpc-js refuses call credentials on a plaintext channel, and a development gateway on loopback is one.
 * Over anything but loopback, use TLS (`credentials`), or the key travels readable.
 */
export function apiKeyInterceptor(apiKey: string): Interceptor {
  // A metadata value must be printable ASCII; refuse here rather than as an opaque grpc-js failure per call.
  if (!/^[\x21-\x7e]+$/.test(apiKey)) throw new VeilClientError('invalid_argument', 'apiKey must be printable ASCII without spaces (as `veil keys create` printed it)');
  const value = `Bearer ${apiKey}`;
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', value);
        next(metadata, listener);
      },
    });
}

/** The `interceptors` channel option for an optional key. */
export function apiKeyInterceptors(apiKey: string | undefined): { interceptors?: Interceptor[] } {
  return apiKey === undefined ? {} : { interceptors: [apiKeyInterceptor(apiKey)] };
}
