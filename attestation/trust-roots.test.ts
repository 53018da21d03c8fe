import { X509Certificate } from 'node:crypto';
import { DEFAULT_TRUST_ROOTS } from './trust-roots';

describe('pinned AMD roots', () => {
  test.each(DEFAULT_TRUST_ROOTS.sevSnp.map((r) => [r.product, r] as const))('%s: ARK self-signed; ASK and ASVK signed by that ARK', (product, roots) => {
    const ark = new X509Certificate(roots.ark);
    expect(ark.verify(ark.publicKey)).toBe(true);
    expect(ark.subject).toContain(`CN=ARK-${product}`);
    for (const [pem, cn] of [[roots.ask, `SEV-${product}`], [roots.asvk, `SEV-VLEK-${product}`]] as const) {
      expect(pem).toBeDefined();
      const cert = new X509Certificate(pem!);
      expect(cert.subject).toContain(`CN=${cn}`);
      expect(cert.checkIssued(ark)).toBe(true);
      expect(cert.verify(ark.publicKey)).toBe(true);
    }
  });
});
