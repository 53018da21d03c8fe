import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The service names a server advertises through gRPC reflection (v1 `list_services`). */
export async function listReflectedServices(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): Promise<string[]> {
  const file = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const def = grpc.loadPackageDefinition(protoLoader.loadSync(file, { keepCase: true, oneofs: true })) as any;
  const stub = new def.grpc.reflection.v1.ServerReflection(address, credentials);
  try {
    const call = stub.ServerReflectionInfo();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const response = await new Promise<any>((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
      call.write({ list_services: '' });
    });
    call.end();
    return response.list_services_response.service.map((s: { name: string }) => s.name);
  } finally {
    stub.close();
  }
}
