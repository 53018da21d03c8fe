import * as grpc from '@grpc/grpc-js';
import { createTlsChannelCredentials, createTlsFileProvider, TlsFilesError } from '../../proto';
import type { VeilConfig } from '../config';
import type { Logger } from '../logger';

export type NodeLinkCredentials = { credentials: grpc.ChannelCredentials; tls: 'off' | 'tls' | 'mutual'; close(): void };

/**
 * Channel credentials of the gateway → `veil worker` links, from `tee.nodeCaFile` (the CA the nodes' server
 * certificates chain to) and `tee.clientCertFile`/`tee.clientKeyFile` (the client certificate a node started with
 * `--client-ca` requires). All "none" is plaintext (development). The files are picked up again when they change.
 */
export function createNodeLinkCredentials(config: Pick<VeilConfig['tee'], 'nodeCaFile' | 'clientCertFile' | 'clientKeyFile'>, logger: Logger): NodeLinkCredentials {
  const set = (v: string) => (v === 'none' ? undefined : v);
  const caFile = set(config.nodeCaFile);
  const certFile = set(config.clientCertFile);
  const keyFile = set(config.clientKeyFile);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new TlsFilesError('tee.clientCertFile and tee.clientKeyFile must be set together');
  if (caFile === undefined) {
    if (certFile !== undefined) throw new TlsFilesError('tee.clientCertFile needs tee.nodeCaFile (a client certificate is only sent over TLS)');
    return { credentials: grpc.credentials.createInsecure(), tls: 'off', close: () => {} };
  }
  let provider;
  try {
    provider = createTlsFileProvider({ caFile, certFile, keyFile }, {
      onReload: (e) => (e.accepted
        ? logger.info('tee node link tls files reloaded', { fingerprint256: e.fingerprint256 })
        : logger.error('tee node link tls files changed but cannot be used; keeping the previous ones', { reason: e.reason })),
    });
  } catch (err) {
    throw new TlsFilesError(`tee.nodeCaFile/clientCertFile/clientKeyFile: ${(err as Error).message}`);
  }
  return {
    credentials: createTlsChannelCredentials(provider, { caFile, certFile, keyFile }),
    tls: certFile ? 'mutual' : 'tls',
    close: () => provider.close(),
  };
}
