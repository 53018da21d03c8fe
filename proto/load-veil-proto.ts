import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The .proto files of the public API, in load order. */
export const VEIL_PROTO_FILES = ['veil/v1/models.proto', 'veil/v1/fhe.proto', 'veil/v1/tee.proto', 'veil/v1/trust.proto'].map((f) => path.join(__dirname, f));

/** Every service in the veil.v1 package; adding a service to a .proto file means adding its name here. */
export const VEIL_SERVICES = ['Models', 'Fhe', 'TeeNode', 'Tee', 'Trust'] as const;
export type VeilServiceName = (typeof VEIL_SERVICES)[number];

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
  services: Record<VeilServiceName, grpc.ServiceClientConstructor>;
};

let cached: VeilProto | undefined;

/** Loads the veil.v1 services once per process (server, client and reflection share the definition). */
export function loadVeilProto(): VeilProto {
  if (cached) return cached;
  const packageDefinition = protoLoader.loadSync(VEIL_PROTO_FILES, LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(packageDefinition) as unknown as { veil: { v1: Record<string, grpc.ServiceClientConstructor> } };
  const services = Object.fromEntries(
    VEIL_SERVICES.map((name) => {
      const service = root.veil.v1[name];
      if (!service) throw new Error(`proto: service veil.v1.${name} is listed but not defined`);
      return [name, service];
    }),
  ) as Record<VeilServiceName, grpc.ServiceClientConstructor>;
  cached = { packageDefinition, services };
  return cached;
}
