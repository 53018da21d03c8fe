import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCE = path.join(__dirname, 'renderer', 'main.go');

/** Debian's Go source packages (GOPATH mode) the renderer builds against; .ci/run installs them. */
const DEBIAN_GOPATH = '/usr/share/gocode';

export class HelmRendererUnavailableError extends Error {
  override name = 'HelmRendererUnavailableError' as const;
  readonly code = 'helm_renderer_unavailable' as const;
}

/**
 * Builds deploy/helm/renderer (text/template + sprig + the helm built-ins the chart uses) with Debian's golang-go,
 * offline, and returns the binary's path. The binary is cached in the temp dir under the source's hash, so a changed
 * renderer is rebuilt and an unchanged one is not.
 */
export function buildHelmRenderer(): string {
  const hash = createHash('sha256').update(fs.readFileSync(SOURCE)).digest('hex').slice(0, 16);
  const binary = path.join(os.tmpdir(), `veil-helm-render-${hash}`);
  if (fs.existsSync(binary)) return binary;
  const env = {
    ...process.env, GOPATH: DEBIAN_GOPATH, GO111MODULE: 'off', GOFLAGS: '', GOPROXY: 'off',
    GOCACHE: process.env.GOCACHE ?? path.join(os.tmpdir(), 'veil-go-cache'),
  };
  try {
    execFileSync('go', ['build', '-o', `${binary}.tmp`, SOURCE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === 'ENOENT' ? 'no `go` on PATH' : String(e.stderr ?? e.message);
    throw new HelmRendererUnavailableError(
      `cannot build the chart renderer (${why}); install Debian's golang-go golang-github-masterminds-sprig-dev ` +
      'golang-gopkg-yaml.v3-dev golang-gopkg-yaml.v2-dev golang-github-xeipuuv-gojsonschema-dev (as .ci/run does)',
    );
  }
  fs.renameSync(`${binary}.tmp`, binary);
  return binary;
}
