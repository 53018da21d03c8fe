import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { createSecureContext } from 'node:tls';
import { experimental, type ChannelCredentials, type ServerCredentials } from '@grpc/grpc-js';

type CertificateProvider = experimental.CertificateProvider;
type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

/** PEM files of one side of a TLS connection: its certificate chain and key, and/or the CA it checks the peer with. */
export type TlsFiles = { certFile?: string; keyFile?: string; caFile?: string };

/** A TLS file that cannot be used; the message names the file and the reason. */
export class TlsFilesError extends Error {
  override name = 'TlsFilesError' as const;
  readonly code = 'tls_files_invalid' as const;
}

export type TlsFileProvider = CertificateProvider & {
  /** SHA-256 fingerprint of the leaf certificate now served (undefined without certFile). */
  readonly fingerprint256: string | undefined;
  /** Re-reads the files; true if a changed, valid set was taken up. Called by the poller; tests may call it too. */
  reload(): boolean;
  close(): void;
};

export type CreateTlsFileProviderOptions = {
  /** How often the files are checked for changes. Default 5000 ms. */
  reloadMs?: number;
  /** Told when changed files were taken up or refused (the previous ones stay in use). */
  onReload?: (event: { accepted: boolean; reason?: string; fingerprint256?: string }) => void;
};

type Loaded = { cert?: Buffer; key?: Buffer; ca?: Buffer; fingerprint256?: string };

/**
 * A grpc-js certificate provider backed by PEM files, picked up again when they change (certificate rotation without a
 * restart). The files are read and checked once at creation (a bad file stops startup, naming it), then polled: a
 * changed set is used only if it is whole and consistent — certificates parse, the key matches the certificate — so
 * a half-written rotation (new certificate, old key) never reaches a listener; the previous pair keeps being served
 * until the next poll sees a good one. New connections get the new certificate; open ones keep theirs.
 */
export function createTlsFileProvider(files: TlsFiles, options: CreateTlsFileProviderOptions = {}): TlsFileProvider {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new TlsFilesError('a certificate file needs its key file, and a key file its certificate');
  if (files.certFile === undefined && files.caFile === undefined) throw new TlsFilesError('name a certificate and key, a CA file, or both');
  const identityListeners = new Set<IdentityListener>();
  const caListeners = new Set<CaListener>();
  let raw = readAll(files);
  let current = check(raw, files);
  let refused: typeof raw | undefined;

  const provider: TlsFileProvider = {
    get fingerprint256() {
      return current.fingerprint256;
    },
    addIdentityCertificateListener(listener) {
      identityListeners.add(listener);
      if (current.cert) process.nextTick(listener, { certificate: current.cert, privateKey: current.key! });
    },
    removeIdentityCertificateListener: (listener) => void identityListeners.delete(listener),
    addCaCertificateListener(listener) {
      caListeners.add(listener);
      if (current.ca) process.nextTick(listener, { caCertificate: current.ca });
    },
    removeCaCertificateListener: (listener) => void caListeners.delete(listener),
    reload() {
      let next: ReturnType<typeof readAll>;
      try {
        next = readAll(files);
      } catch (err) {
        options.onReload?.({ accepted: false, reason: (err as Error).message });
        return false;
      }
      if (sameBytes(next, raw) || (refused && sameBytes(next, refused))) return false;
      let loaded: Loaded;
      try {
        loaded = check(next, files);
      } catch (err) {
        // Reported once per bad set; any further change (the rotation finishing) is checked again.
        refused = next;
        options.onReload?.({ accepted: false, reason: (err as Error).message });
        return false;
      }
      raw = next;
      current = loaded;
      if (loaded.cert) for (const l of identityListeners) l({ certificate: loaded.cert, privateKey: loaded.key! });
      if (loaded.ca) for (const l of caListeners) l({ caCertificate: loaded.ca });
      options.onReload?.({ accepted: true, fingerprint256: loaded.fingerprint256 });
      return true;
    },
    close: () => clearInterval(timer),
  };
  const timer = setInterval(() => provider.reload(), options.reloadMs ?? 5_000);
  timer.unref();
  return provider;
}

/**
 * Server credentials from files: TLS with `certFile`/`keyFile`, mutual TLS when `caFile` is given too (only clients whose
 * certificate chains to that CA get past the handshake).
 */
export function createTlsServerCredentials(provider: TlsFileProvider, files: TlsFiles): ServerCredentials {
  if (!files.certFile) throw new TlsFilesError('a TLS server needs a certificate and key');
  return experimental.createCertificateProviderServerCredentials(provider, files.caFile ? provider : null, files.caFile !== undefined);
}

/** Channel credentials from files: the server must chain to `caFile`; `certFile`/`keyFile` are the client certificate. */
export function createTlsChannelCredentials(provider: TlsFileProvider, files: TlsFiles): ChannelCredentials {
  if (!files.caFile) throw new TlsFilesError('a TLS client needs the CA that signed the server certificate');
  return experimental.createCertificateProviderChannelCredentials(provider, files.certFile ? provider : null);
}

function readAll(files: TlsFiles): { cert?: Buffer; key?: Buffer; ca?: Buffer } {
  const read = (file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new TlsFilesError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  return { cert: read(files.certFile), key: read(files.keyFile), ca: read(files.caFile) };
}

/** Parses with node:crypto / node:tls (OpenSSL): certificates must parse and the key must match the certificate. */
function check(bytes: { cert?: Buffer; key?: Buffer; ca?: Buffer }, files: TlsFiles): Loaded {
  let fingerprint256: string | undefined;
  if (bytes.cert) {
    try {
      fingerprint256 = new X509Certificate(bytes.cert).fingerprint256;
    } catch (err) {
      throw new TlsFilesError(`${files.certFile}: not a PEM certificate (${(err as Error).message})`);
    }
    try {
      createSecureContext({ cert: bytes.cert, key: bytes.key });
    } catch (err) {
      throw new TlsFilesError(`${files.keyFile}: not the private key of ${files.certFile} (${(err as Error).message})`);
    }
  }
  if (bytes.ca) {
    try {
      new X509Certificate(bytes.ca);
    } catch (err) {
      throw new TlsFilesError(`${files.caFile}: not a PEM CA certificate (${(err as Error).message})`);
    }
  }
  return { ...bytes, fingerprint256 };
}

function sameBytes(a: { cert?: Buffer; key?: Buffer; ca?: Buffer }, b: { cert?: Buffer; key?: Buffer; ca?: Buffer }): boolean {
  const eq = (x?: Buffer, y?: Buffer) => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return eq(a.cert, b.cert) && eq(a.key, b.key) && eq(a.ca, b.ca);
}
