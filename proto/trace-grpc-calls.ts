import { InterceptingCall, Metadata, status as grpcStatus, type Interceptor } from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';

const setter: TextMapSetter<Metadata> = { set: (metadata, key, value) => metadata.set(key, value) };
const getter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key).filter((v): v is string => typeof v === 'string');
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  },
};

/** `/veil.v1.Fhe/Predict` → the OpenTelemetry RPC span name and attributes (service and method: routing only). */
function rpcAttributes(path: string): { name: string; attributes: Record<string, string> } {
  const name = path.replace(/^\//, '');
  const slash = name.lastIndexOf('/');
  return { name, attributes: { 'rpc.system': 'grpc', 'rpc.service': name.slice(0, slash), 'rpc.method': name.slice(slash + 1) } };
}

/**
 * A grpc-js client interceptor that makes each call a CLIENT span (child of the caller's active span) and sends its
 * W3C trace context (`traceparent`, `tracestate`) in the call's metadata, through the OpenTelemetry API only: with no
 * tracer installed (an SDK user who traces nothing) it creates nothing and sends nothing. The span ends with the call's
 * status code — never the status text, which may quote what was sent.
 */
export function traceGrpcCalls(tracerName: string): Interceptor {
  return (options, nextCall) => {
    const { name, attributes } = rpcAttributes(options.method_definition.path);
    // Looked up per call: a tracer taken before the app installed its SDK would stay a no-op.
    const span = trace.getTracer(tracerName).startSpan(name, { kind: SpanKind.CLIENT, attributes });
    const active = trace.setSpan(context.active(), span);
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        propagation.inject(active, metadata, setter);
        // A partial listener: grpc-js passes every other event through unchanged.
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            span.setAttribute('rpc.grpc.status_code', status.code);
            if (status.code !== grpcStatus.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: grpcStatus[status.code] ?? String(status.code) });
            span.end();
            nextStatus(status);
          },
        });
      },
    });
  };
}

/** The caller's trace context from a call's metadata (`traceparent`): the parent of the server's span. */
export function grpcTraceContext(metadata: Metadata): Context {
  return propagation.extract(ROOT_CONTEXT, metadata, getter);
}

/** OpenTelemetry RPC attributes of a server call, by its path (`call.getPath()`). */
export function grpcServerSpanName(path: string): { name: string; attributes: Record<string, string> } {
  return rpcAttributes(path);
}
