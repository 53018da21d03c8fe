/**
 * The servers advertise a wide HTTP/2 receive window, so a large request is not throttled to 64 KiB per round trip.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { typeSizeRefusals } from './type-size-refusals';
import { RECEIVE_WINDOW_BYTES, widenReceiveWindow } from './widen-receive-window';

test('after its first call a connection may send RECEIVE_WINDOW_BYTES before waiting, on the stream and the connection', async () => {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, interceptors: [typeSizeRefusals, widenReceiveWindow()] });
  const bytes = (b: Buffer) => b;
  server.addService(
    { Call: { path: '/test.Echo/Call', requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes } },
    { Call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.of(call.request.byteLength & 0xff)) },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/test.Echo/Call', 'content-type': 'application/grpc', te: 'trailers' });
    const frame = Buffer.alloc(5 + 3 * 1024 * 1024, 7);
    frame.writeUInt32BE(3 * 1024 * 1024, 1);
    stream.end(frame);
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once('trailers', resolve));
    stream.resume();
    expect(await trailers).toMatchObject({ 'grpc-status': '0' });
    // Node's default is 65,535 bytes for both.
    expect(session.remoteSettings.initialWindowSize).toBe(RECEIVE_WINDOW_BYTES);
    expect(session.state.remoteWindowSize).toBeGreaterThan(RECEIVE_WINDOW_BYTES / 2);
  } finally {
    session.destroy();
    server.forceShutdown();
  }
});
