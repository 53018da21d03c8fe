import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type TestCertificate = { certFile: string; keyFile: string };
export type TestCa = TestCertificate & {
  /** A certificate signed by this CA (serverAuth and clientAuth, SAN localhost and 127.0.0.1), written under `dir`. */
  issue(name: string, options?: { commonName?: string }): TestCertificate;
};

/**
 * A throwaway CA made with the openssl CLI (never hand-rolled X.509): EC P-256 keys, one-day validity. Tests and
 * the TLS bench make their certificates at run time, so no private key is ever committed.
 */
export function createTestCa(dir: string, name = 'ca'): TestCa {
  fs.mkdirSync(dir, { recursive: true });
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}.key`);
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', `/CN=veil test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  return {
    certFile,
    keyFile,
    issue(leaf, options = {}) {
      const leafCert = path.join(dir, `${leaf}.pem`);
      const leafKey = path.join(dir, `${leaf}.key`);
      const csr = path.join(dir, `${leaf}.csr`);
      const ext = path.join(dir, `${leaf}.ext`);
      fs.writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-out', csr, '-subj', `/CN=${options.commonName ?? leaf}`);
      openssl('x509', '-req', '-in', csr, '-CA', certFile, '-CAkey', keyFile, '-set_serial', `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`,
        '-days', '1', '-extfile', ext, '-out', leafCert);
      fs.rmSync(csr);
      fs.rmSync(ext);
      return { certFile: leafCert, keyFile: leafKey };
    },
  };
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
