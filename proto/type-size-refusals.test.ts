/**
 * A message over the size limit is answered with the typed refusal, and the server then resets the stream so the
 * client stops sending the rest of it (instead of pushing it across the shared connection for seconds).
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { typeSizeRefusals } from './type-size-refusals';

const MiB = 1024 * 1024;
let server: grpc.Server;
let port: number;

beforeAll(async () => {
  server = new grpc.Server({ 'grpc.max_receive_message_length': MiB, interceptors: [typeSizeRefusals] });
  const bytes = (b: Buffer) => b;
  server.addService(
    { Call: { path: '/test.Echo/Call', requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes } },
    { Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request) },
  );
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
});

afterAll(() => server?.forceShutdown());

test('error: an oversized message is refused as message_too_large, and the stream is reset so the client stops sending it', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/test.Echo/Call', 'content-type': 'application/grpc', te: 'trailers' });
    // A gRPC frame announcing 8 MiB (over the 1 MiB limit), then only its first part: the client never ends its side.
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(8 * MiB, 1);
    stream.write(Buffer.concat([prefix, Buffer.alloc(256 * 1024, 1)]));
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('response', resolve));
    expect(headers).toMatchObject({ 'grpc-status': String(grpc.status.RESOURCE_EXHAUSTED), 'veil-error-code': 'message_too_large' });
    expect(headers['x-request-id']).toEqual(expect.any(String));
    // grpc-js alone leaves the request side open, so a client goes on sending the remaining megabytes.
    const rstCode = await new Promise<number | 'still open'>((resolve) => {
      const timer = setTimeout(() => resolve('still open'), 3_000);
      stream.once('close', () => {
        clearTimeout(timer);
        resolve(stream.rstCode ?? -1);
      });
      stream.resume();
    });
    expect(rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
  } finally {
    session.destroy();
  }
});

test('the typed refusal still reaches a grpc-js client, and the connection serves the next call', async () => {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * MiB });
  const call = (bytes: Buffer) => new Promise<{ code: number; veil?: string; bytes?: number }>((resolve) => {
    client.makeUnaryRequest('/test.Echo/Call', (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), {}, (err, res?: Buffer) => {
      resolve(err ? { code: err.code, veil: String(err.metadata.get('veil-error-code')[0]) } : { code: 0, bytes: res!.byteLength });
    });
  });
  try {
    expect(await call(Buffer.alloc(16 * MiB, 1))).toEqual({ code: grpc.status.RESOURCE_EXHAUSTED, veil: 'message_too_large' });
    expect(await call(Buffer.alloc(1000, 2))).toEqual({ code: 0, bytes: 1000 });
  } finally {
    client.close();
  }
});
