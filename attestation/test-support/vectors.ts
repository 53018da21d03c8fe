/**
 * Test-only access to the real vectors in `<repo>/../shared/vectors` (never copied into the repo).
 * When the folder is absent, suites using it are skipped with a visible warning.
 * @internal
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const VECTORS_DIR = path.resolve(__dirname, '..', '..', '../shared/vectors');
export const HAVE_VECTORS = existsSync(path.join(VECTORS_DIR, 'SOURCES.md'));

export function vectorPath(rel: string): string {
  return path.join(VECTORS_DIR, rel);
}

export function readVector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(vectorPath(rel)));
}

export function readVectorText(rel: string): string {
  return readFileSync(vectorPath(rel), 'utf8');
}

/** `describe` when the vectors are present, otherwise a skipped suite plus a console warning. */
export function describeWithVectors(name: string, fn: () => void): void {
  if (HAVE_VECTORS) {
    describe(name, fn);
  } else {
    // eslint-disable-next-line no-console
    console.warn(`[attestation] vectors folder ${VECTORS_DIR} not found: skipping "${name}"`);
    describe.skip(name, fn);
  }
}
