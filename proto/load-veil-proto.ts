import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The .proto files of the public API, in load order. */
export const VEIL_PROTO_FILES = ['veil/v1/models.proto', 'veil/v1/fhe.proto', 'veil/v1/tee.proto'].map((f) => path.join(__dirname, f));

/** Loader options shared by server and client so both see identical message shapes. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [__dirname],
};

export type VeilProto = {
  packageDefinition: protoLoader.PackageDefinition;
  services: { Models: grpc.ServiceClientConstructor; Fhe: grpc.ServiceClientConstructor; TeeNode: grpc.ServiceClientConstructor };
};

let cached: VeilProto | undefined;

/** Loads the veil.v1 services once per process (server, client and reflection share the definition). */
export function loadVeilProto(): VeilProto {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync(VEIL_PROTO_FILES, LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    veil: { v1: { Models: grpc.ServiceClientConstructor; Fhe: grpc.ServiceClientConstructor; TeeNode: grpc.ServiceClientConstructor } };
  };
  cached = { packageDefinition, services: { Models: root.veil.v1.Models, Fhe: root.veil.v1.Fhe, TeeNode: root.veil.v1.TeeNode } };
  return cached;
}
