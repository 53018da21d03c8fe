import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_SCHEMA, isConfigField, loadConfig, type ConfigTree } from '../../gateway/config';
import { dockerStages, DockerfileSyntaxError, parseDockerfile } from './parse-dockerfile';

const ROOT = path.resolve(__dirname, '..', '..');
const instructions = parseDockerfile(fs.readFileSync(path.join(__dirname, 'Dockerfile'), 'utf8'));
const stages = dockerStages(instructions);
const final = stages.at(-1)!;
/** Files a clean checkout has: what git tracks (the index, so a file added but not yet committed counts). */
const tracked = execFileSync('git', ['ls-files', '--cached'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const envNames = (tree: ConfigTree): string[] => Object.values(tree).flatMap((n) => (isConfigField(n) ? [n.env] : envNames(n)));
const envOf = (text: string) => Object.fromEntries(text.split(/\s+/).filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const globalArgs = Object.fromEntries(instructions.filter((i) => i.keyword === 'ARG' && i.line < stages[0]!.from.line).map((i) => i.text.split('=') as [string, string]));
const baseImage = (text: string) => text.split(/\s+/)[0]!.replace(/\$\{(\w+)\}/g, (_m, name: string) => globalArgs[name] ?? '');

describe('deploy/docker/Dockerfile', () => {
  test('it parses into a multi-stage build on a Node 20 Debian slim base pinned by exact version (or digest)', () => {
    expect(stages.map((s) => s.name)).toEqual(['deps', 'runtime']);
    for (const { from } of stages) {
      const image = baseImage(from.text);
      expect(image).toMatch(/^node:20\.\d+\.\d+-(bookworm|bullseye)-slim(@sha256:[0-9a-f]{64})?$/);
    }
    // The image's Node major is the one the project runs and tests on.
    expect(baseImage(stages[0]!.from.text)).toContain(`node:${process.versions.node}-`);
  });

  test('the final stage runs as a non-root numeric user, with the data dir as a volume and VEIL_DATA_DIR set', () => {
    const user = final.body.filter((i) => i.keyword === 'USER').at(-1);
    expect(user).toBeDefined();
    const [uid] = user!.text.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(['0', 'root']).not.toContain(uid);
    expect(final.body.find((i) => i.keyword === 'VOLUME')?.exec).toEqual(['/data']);
    const env = Object.assign({}, ...final.body.filter((i) => i.keyword === 'ENV').map((i) => envOf(i.text)));
    expect(env.VEIL_DATA_DIR).toBe('/data');
    // Every VEIL_* the image sets is a config-schema variable (or VEIL_CONFIG), and the default config file it names
    // is one the gateway's loader accepts.
    const known = new Set([...envNames(CONFIG_SCHEMA), 'VEIL_CONFIG']);
    for (const name of Object.keys(env).filter((k) => k.startsWith('VEIL_'))) expect(known).toContain(name);
    const configFile = path.join(ROOT, path.relative('/opt/veil', env.VEIL_CONFIG));
    const config = loadConfig({ env: { VEIL_CONFIG: configFile, VEIL_DATA_DIR: env.VEIL_DATA_DIR } });
    expect(config).toMatchObject({ grpc: { host: '0.0.0.0' }, http: { host: '0.0.0.0' }, dataDir: '/data' });
  });

  test('every COPY source exists in a clean checkout and is not excluded by .dockerignore', () => {
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const copies = stages.flatMap((s) => s.body).filter((i) => i.keyword === 'COPY' && !i.flags.from);
    expect(copies.length).toBeGreaterThan(5);
    for (const copy of copies) {
      const sources = copy.text.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expect({ source, present: tracked.some((f) => f === source || f.startsWith(`${source}/`)) }).toEqual({ source, present: true });
        expect(ignored.filter((p) => !p.includes('*') && (source === p || source.startsWith(`${p}/`)))).toEqual([]);
      }
    }
    // Files copied from the deps stage come from a path that stage populates.
    for (const copy of final.body.filter((i) => i.keyword === 'COPY' && i.flags.from)) {
      expect(copy.flags.from).toBe('deps');
      expect(copy.text.split(/\s+/)[0]).toBe('/opt/veil/node_modules');
    }
  });

  test('the runtime modules the gateway, worker and proxy import are all copied', () => {
    const copied = new Set(final.body.filter((i) => i.keyword === 'COPY' && !i.flags.from).flatMap((i) => i.text.split(/\s+/).slice(0, -1)));
    const modules = ['bin', 'cli', 'gateway', 'workers', 'client', 'proto', 'tracing', 'fhe', 'onnx', 'llm', 'tee', 'attestation', 'chain', 'payments', 'models'];
    for (const m of modules) expect(copied).toContain(m);
    // And tsconfig's module list names nothing else the runtime could need (bench/test/deploy are tooling).
    const include = (JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] }).include;
    expect(include.filter((m) => !modules.includes(m)).sort()).toEqual(['bench', 'deploy', 'test']);
  });

  test('the dependency install is `npm ci --omit=dev` under the project\'s allowScripts policy, and succeeds on the copied files', () => {
    const deps = stages[0]!;
    const runs = deps.body.filter((i) => i.keyword === 'RUN').map((i) => i.text);
    const ci = runs.find((r) => r.startsWith('npm ci'));
    expect(ci).toMatch(/^npm ci --omit=dev\b/);
    // The install policy lives in package.json "allowScripts" + .npmrc strict-allow-scripts, so .npmrc must be copied
    // before the install, and the npm that enforces it installed (the version this checkout is maintained with).
    const copied = deps.body.filter((i) => i.keyword === 'COPY').flatMap((i) => i.text.split(/\s+/).slice(0, -1));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', '.npmrc']));
    expect(fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8')).toContain('strict-allow-scripts=true');
    const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
    expect(runs).toContain(`npm install -g npm@${npmVersion}`);
    // Run the install itself on exactly the copied files, as a dry run from the local cache (no network here).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'veil-docker-ci-'));
    try {
      for (const f of copied) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
      const r = spawnSync('npm', [...ci!.split(/\s+/).slice(1), '--dry-run', '--offline'], { cwd: dir, encoding: 'utf8' });
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
      // Production packages only: the dev tooling is left out (typescript stays: viem declares it as a peer).
      expect(r.stdout).not.toMatch(/^add (jest|@swc\/core|fast-check|openai|kubernetes-models) /m);
      expect(r.stdout).toMatch(/^add tsx /m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('ENTRYPOINT, CMD and HEALTHCHECK name `veil` subcommands that exist: serve, worker, proxy and health', () => {
    const entry = final.body.find((i) => i.keyword === 'ENTRYPOINT')!.exec!;
    expect(entry).toEqual(['node', 'bin/veil.cjs']);
    expect(final.body.find((i) => i.keyword === 'CMD')!.exec).toEqual(['serve']);
    const health = final.body.find((i) => i.keyword === 'HEALTHCHECK')!;
    expect(health.exec!.slice(0, 3)).toEqual(['node', 'bin/veil.cjs', 'health']);
    for (const command of [['serve'], ['worker'], ['proxy'], health.exec!.slice(2)]) {
      const r = spawnSync(entry[0]!, [entry[1]!, ...command, '--help'], { cwd: ROOT, encoding: 'utf8' });
      expect({ command, status: r.status }).toEqual({ command, status: 0 });
    }
  }, 60_000);

  test('error: the parser refuses what Docker would refuse', () => {
    expect(() => parseDockerfile('FROM x\nBOGUS y\n')).toThrow(DockerfileSyntaxError);
    expect(() => parseDockerfile('FROM x\nRUN a \\')).toThrow('continuation runs past the end');
    expect(parseDockerfile('# c\nRUN a \\\n  # inner\n  b\n')).toMatchObject([{ keyword: 'RUN', text: 'a    b' }]);
  });
});
