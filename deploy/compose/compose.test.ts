import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_SCHEMA, isConfigField, loadConfig, type ConfigTree } from '../../gateway/config';
import { createLogger } from '../../gateway';
import { recordRpc, startTelemetry } from '../../gateway/telemetry';
import { run as runWorker } from '../../cli/worker';
import { captureCli } from '../../test/support/capture-cli';
import { freePort } from '../../test/support/free-port';

const DIR = __dirname;
type Service = {
  image?: string; build?: { context: string; dockerfile: string }; command?: string[]; entrypoint?: string[];
  environment?: Record<string, string>; volumes?: string[]; healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(fs.readFileSync(path.join(DIR, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const readYaml = (file: string) => parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** Compose's `${NAME:-default}` / `${NAME}` interpolation with an empty environment: what a fresh `up` runs with. */
const interpolate = (value: string) => value.replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
const envNames = (tree: ConfigTree): string[] => Object.values(tree).flatMap((n) => (isConfigField(n) ? [n.env] : envNames(n)));
const veilServices = Object.entries(services).filter(([, s]) => s.image === 'veil:dev');

describe('deploy/compose/compose.yaml', () => {
  test('it has the gateway, two TEE workers, anvil, PostgreSQL, an OTel collector, Prometheus and Grafana, each with a health check', () => {
    expect(Object.keys(services).sort()).toEqual(['anvil', 'gateway', 'grafana', 'otel-collector', 'postgres', 'prometheus', 'worker-1', 'worker-2']);
    for (const [name, s] of Object.entries(services)) {
      expect({ name, test: s.healthcheck?.test?.[0] }).toEqual({ name, test: 'CMD' });
      expect(s.healthcheck!.test.length).toBeGreaterThan(1);
      for (const dep of Object.keys(s.depends_on ?? {})) expect(services[dep]?.healthcheck).toBeDefined();
    }
  });

  test('every file it references exists (build context, Dockerfile, bind mounts)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) {
        expect(fs.existsSync(path.join(DIR, s.build.context, s.build.dockerfile))).toBe(true);
      }
      for (const volume of s.volumes ?? []) {
        const [source] = volume.split(':');
        if (source!.startsWith('.')) expect({ name, source, exists: fs.existsSync(path.join(DIR, source!)) }).toEqual({ name, source, exists: true });
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
  });

  test('the VEIL_* variables it sets are config-schema variables, and the gateway\'s loader accepts the gateway\'s environment', () => {
    const known = new Set(envNames(CONFIG_SCHEMA));
    for (const [, s] of veilServices) for (const k of Object.keys(s.environment ?? {}).filter((k) => k.startsWith('VEIL_'))) expect(known).toContain(k);
    const env = Object.fromEntries(Object.entries(services.gateway!.environment!).map(([k, v]) => [k, interpolate(String(v))]));
    const config = loadConfig({ env });
    expect(config.tee.nodes).toEqual(['worker-1:50061', 'worker-2:50061']);
    expect(config.payments.ledger).toBe('postgres');
    // Each node address names a worker service listening on that port.
    for (const node of config.tee.nodes) {
      const [host, port] = node.split(':');
      const cmd = services[host!]!.command!;
      expect(cmd[cmd.indexOf('--port') + 1]).toBe(port);
    }
  });

  test('the workers\' commands are flags `veil worker` accepts', async () => {
    for (const name of ['worker-1', 'worker-2']) {
      const [command, ...args] = services[name]!.command!;
      expect(command).toBe('worker');
      expect((await captureCli(runWorker, [...args, '--help'])).code).toBe(0);
    }
  });

  test('Prometheus scrapes the gateway\'s metrics port; the OTel collector\'s pipelines use components it defines', () => {
    const prom = readYaml('prometheus/prometheus.yml');
    const port = services.gateway!.environment!.VEIL_TELEMETRY_PROMETHEUS_PORT;
    expect(prom.scrape_configs.flatMap((c: { static_configs: { targets: string[] }[] }) => c.static_configs.flatMap((s) => s.targets))).toContain(`gateway:${port}`);
    const otel = readYaml('otel-collector/config.yaml');
    for (const pipeline of Object.values(otel.service.pipelines) as Record<string, string[]>[]) {
      for (const kind of ['receivers', 'processors', 'exporters']) for (const c of pipeline[kind] ?? []) expect(Object.keys(otel[kind])).toContain(c);
    }
    const endpoint = new URL(services.gateway!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect(endpoint.hostname).toBe('otel-collector');
    expect(otel.receivers.otlp.protocols.http.endpoint).toBe(`0.0.0.0:${endpoint.port}`);
  });

  test('Grafana provisions the Veil dashboard, whose queries name metrics the gateway really exports', async () => {
    const mounts = services.grafana!.volumes!.map((v) => v.split(':'));
    const dashboardMount = mounts.find(([, target]) => target!.endsWith('veil-gateway.json'))!;
    const provider = readYaml('grafana/provisioning/dashboards/veil.yaml');
    expect(path.dirname(dashboardMount[1]!)).toBe(provider.providers[0].options.path);
    const datasource = readYaml('grafana/provisioning/datasources/prometheus.yaml').datasources[0];
    const dashboard = JSON.parse(fs.readFileSync(path.join(DIR, dashboardMount[0]!), 'utf8')) as { panels: { datasource: { uid: string }; targets: { expr: string }[] }[] };
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\bveil_[a-z0-9_]+/g) ?? [])));
    expect(queried.size).toBeGreaterThan(0);
    for (const p of dashboard.panels) expect(p.datasource.uid).toBe(datasource.uid);

    // The names the gateway's exporter really serves, read from a live endpoint after one recorded RPC.
    const port = await freePort();
    const telemetry = await startTelemetry({ prometheusPort: port, prometheusHost: '127.0.0.1' }, createLogger({ level: 'silent', format: 'text' }));
    try {
      recordRpc('veil.v1.Models/ListModels', 'ok', 3);
      const text = await (await fetch(telemetry.endpoint!)).text();
      const exported = new Set(text.split('\n').filter((l) => !l.startsWith('#')).map((l) => /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(l)?.[1]).filter(Boolean));
      expect([...queried].filter((m) => !exported.has(m))).toEqual([]);
    } finally {
      await telemetry.close();
    }
  });
});

