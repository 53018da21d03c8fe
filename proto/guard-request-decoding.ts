import type { ServiceDefinition } from '@grpc/grpc-js';

/**
 * What a method's deserializer yields instead of throwing when the bytes are not a valid protobuf message. grpc-js
 * decodes before any handler runs and answers a throwing deserializer with a bare INTERNAL (no Veil code, no request
 * id), so the throw is caught here and the RPC wrapper (`handle-call.ts`) turns this marker into `invalid_argument`.
 */
export class UndecodableRequest {
  constructor(
    /** `/veil.v1.Fhe/Predict`: which message failed, for the client's error. */
    readonly path: string,
    /** protobufjs's reason: for the server log only (it may quote offsets of the client's bytes). */
    readonly reason: string,
  ) {}
}

/** A copy of a service definition whose request deserializers never throw (see `UndecodableRequest`). */
export function guardRequestDecoding(service: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(service).map(([name, method]) => {
      const decode = method.requestDeserialize;
      return [name, {
        ...method,
        requestDeserialize: (bytes: Buffer): unknown => {
          try {
            return decode(bytes);
          } catch (err) {
            return new UndecodableRequest(method.path, err instanceof Error ? err.message : String(err));
          }
        },
      }];
    }),
  ) as ServiceDefinition;
}
