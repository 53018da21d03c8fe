/**
 * nginx (Debian's, /usr/sbin/nginx) in front of gateway replicas, run with deploy/nginx/veil.conf itself: the test
 * writes a minimal main config into a temp dir that includes that file with its upstream servers and listen port
 * replaced, and runs `nginx -p DIR -c nginx.conf -g 'daemon off;'` as a child (no root privileges, no system paths).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

export const VEIL_NGINX_CONF = join(__dirname, '..', '..', 'deploy', 'nginx', 'veil.conf');

export type StartedNginx = { url: string; child: ChildProcess; stop(): Promise<void> };

export function findNginx(): string | undefined {
  for (const bin of [process.env.VEIL_TEST_NGINX, '/usr/sbin/nginx', '/usr/bin/nginx']) if (bin && existsSync(bin)) return bin;
  return undefined;
}

/** veil.conf with its `# veil-upstream` lines replaced by `upstreams` (host:port) and its `# veil-listen` port by `port`. */
export function renderVeilNginxConf(upstreams: readonly string[], port: number): string {
  const lines = readFileSync(VEIL_NGINX_CONF, 'utf8').split('\n');
  const first = lines.findIndex((l) => l.includes('# veil-upstream'));
  if (first < 0 || !lines.some((l) => l.includes('# veil-listen'))) throw new Error(`${VEIL_NGINX_CONF} lost its # veil-upstream / # veil-listen markers`);
  const template = lines[first]!;
  const servers = upstreams.map((u) => template.replace(/server \S+/, `server ${u}`));
  return lines
    .filter((l, i) => i === first || !l.includes('# veil-upstream'))
    .flatMap((l, i, all) => (all[i] === template ? servers : [l.replace(/listen \d+;/, `listen 127.0.0.1:${port};`)]))
    .join('\n');
}

export async function startNginx(upstreams: readonly string[], bin = findNginx()): Promise<StartedNginx> {
  if (!bin) throw new Error('nginx not found (apt-get install nginx-light, or set VEIL_TEST_NGINX)');
  const dir = mkdtempSync(join(tmpdir(), 'veil-nginx-'));
  chmodSync(dir, 0o755); // as root, nginx's workers run as `nobody` and must reach the temp paths under it
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  writeFileSync(join(dir, 'veil.conf'), renderVeilNginxConf(upstreams, port));
  // Every path nginx writes is under the prefix dir, none of the system's.
  writeFileSync(join(dir, 'nginx.conf'), [
    'worker_processes 1;', 'pid nginx.pid;', 'error_log logs/error.log warn;', 'events { worker_connections 256; }',
    'http {', '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
    '  include veil.conf;', '}', '',
  ].join('\n'));
  const child = spawn(bin, ['-p', dir, '-c', 'nginx.conf', '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // graceful: finish what is in flight
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when it accepts connections.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      const log = existsSync(join(dir, 'logs', 'error.log')) ? readFileSync(join(dir, 'logs', 'error.log'), 'utf8') : '';
      await stop();
      throw new Error(`nginx exited with ${child.exitCode}: ${err}${log}`);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 100) {
      await stop();
      throw new Error(`nginx did not listen on ${port}: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, child, stop };
}
