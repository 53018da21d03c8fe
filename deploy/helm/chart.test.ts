import { CONFIG_SCHEMA, ConfigError, isConfigField, loadConfig, type ConfigTree } from '../../gateway/config';
import { captureCli } from '../../test/support/capture-cli';
import { run as runWorker } from '../../cli/worker';
import { buildHelmRenderer } from './build-helm-renderer';
import { renderChart, type RenderedObject } from './render-chart';
import { validateKubernetesObject } from './validate-kubernetes-object';

const SEV_SNP = ['examples/values-sev-snp.yaml', 'ci/existing-secrets-values.yaml'];
const TDX_CREATED = ['examples/values-tdx.yaml', 'ci/created-secrets-values.yaml'];

let renderer: string;
beforeAll(() => {
  renderer = buildHelmRenderer();
}, 300_000);

function rendered(valueFiles: string[], set: string[] = []): RenderedObject[] {
  const result = renderChart(renderer, { valueFiles, set });
  if (!result.ok) throw new Error(result.error);
  return result.objects;
}
const find = (objects: RenderedObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.object.kind === kind && x.object.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o.object as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};
const leaves = (tree: ConfigTree, at: string[] = []): string[] =>
  Object.entries(tree).flatMap(([k, node]) => (isConfigField(node) ? [[...at, k].join('.')] : leaves(node, [...at, k])));
const keysOf = (value: unknown, at: string[] = []): string[] =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([k, v]) => keysOf(v, [...at, k]))
    : [at.join('.')];

describe('deploy/helm/veil', () => {
  test.each([['SEV-SNP nodes, existing Secrets', SEV_SNP], ['TDX runtime class, created Secrets', TDX_CREATED]])(
    'every rendered object validates against the Kubernetes schema of its kind (%s)',
    (_label, files) => {
      const objects = rendered(files);
      const kinds = new Set(objects.map((o) => o.object.kind));
      for (const kind of ['ConfigMap', 'Deployment', 'Service', 'StatefulSet', 'NetworkPolicy', 'ServiceAccount']) expect(kinds).toContain(kind);
      for (const o of objects) expect({ source: o.source, name: o.object.metadata.name, problems: validateKubernetesObject(o) }).toEqual({ source: o.source, name: o.object.metadata.name, problems: [] });
    },
  );

  test('the default release renders gateway Deployment + Service + HPA + PDB, workers, NetworkPolicies and a ServiceMonitor', () => {
    const objects = rendered(SEV_SNP);
    const names = objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`).sort();
    expect(names).toEqual(expect.arrayContaining([
      'ConfigMap/veil-gateway', 'Deployment/veil-gateway', 'HorizontalPodAutoscaler/veil-gateway', 'NetworkPolicy/veil-gateway',
      'NetworkPolicy/veil-worker', 'PodDisruptionBudget/veil-gateway', 'Service/veil-gateway', 'Service/veil-worker',
      'ServiceMonitor/veil-gateway', 'StatefulSet/veil-worker',
    ]));
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'veil-gateway');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'veil-gateway' });
    // With the HPA on, the Deployment leaves replicas to it.
    expect(find(objects, 'Deployment', 'veil-gateway').spec.replicas).toBeUndefined();
    expect(find(rendered(TDX_CREATED), 'Deployment', 'veil-gateway').spec.replicas).toBe(3);
  });

  test('the ConfigMap\'s config file sets only config-schema leaves and passes the gateway\'s own loader (production checks included)', () => {
    for (const files of [SEV_SNP, TDX_CREATED]) {
      const objects = rendered(files);
      const file = find(objects, 'ConfigMap', 'veil-gateway').data['veil.json'] as string;
      const json = JSON.parse(file) as Record<string, unknown>;
      const schemaLeaves = new Set(leaves(CONFIG_SCHEMA));
      expect(keysOf(json).filter((k) => !schemaLeaves.has(k))).toEqual([]);
      // What the pod's env adds (VEIL_*), as the Deployment sets it; secretKeyRef values stand in as placeholders.
      const container = find(objects, 'Deployment', 'veil-gateway').spec.template.spec.containers[0];
      const env = Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? 'postgres://from-secret/db']));
      expect(env.VEIL_CONFIG).toBe('/etc/veil/config/veil.json');
      const config = loadConfig({ env, readFile: (f) => (f === env.VEIL_CONFIG ? file : '') });
      expect(config.profile).toBe('production');
      expect(config.tee.nodes.length).toBeGreaterThan(0);
    }
  });

  test('error: the loader would refuse what the chart renders without a required production setting (the reverse check)', () => {
    const objects = rendered(TDX_CREATED);
    const file = JSON.parse(find(objects, 'ConfigMap', 'veil-gateway').data['veil.json']) as Record<string, Record<string, unknown>>;
    // Each leaf the production profile requires is set by the chart: dropping any one makes the loader refuse.
    for (const [section, key] of [['grpc', 'tlsCertFile'], ['http', 'tlsKeyFile'], ['tee', 'nodeCaFile'], ['tee', 'clientKeyFile'], ['tee', 'measurements']] as const) {
      const copy = structuredClone(file);
      delete copy[section]![key];
      expect(() => loadConfig({ env: { VEIL_CONFIG: 'veil.json' }, readFile: () => JSON.stringify(copy) })).toThrow(ConfigError);
    }
  });

  test('every VEIL_* variable the chart sets is a real config-schema env name (or VEIL_CONFIG itself)', () => {
    const envNames = new Set([...leavesEnv(CONFIG_SCHEMA), 'VEIL_CONFIG']);
    for (const files of [SEV_SNP, TDX_CREATED]) {
      const objects = rendered(files);
      for (const kind of ['Deployment', 'StatefulSet']) {
        for (const o of objects.filter((x) => x.object.kind === kind)) {
          for (const c of (o.object as any).spec.template.spec.containers) { // eslint-disable-line @typescript-eslint/no-explicit-any
            for (const e of c.env ?? []) if (String(e.name).startsWith('VEIL_')) expect(envNames).toContain(e.name);
          }
        }
      }
    }
  });

  test('TEE workers run only on confidential nodes: nodeSelector / tolerations / runtimeClassName come from values', () => {
    const snp = find(rendered(SEV_SNP), 'StatefulSet', 'veil-worker').spec.template.spec;
    expect(snp.nodeSelector).toEqual({ 'veil.dev/tee': 'sev-snp' });
    expect(snp.tolerations).toEqual([{ key: 'veil.dev/tee', operator: 'Equal', value: 'sev-snp', effect: 'NoSchedule' }]);
    expect(snp.runtimeClassName).toBeUndefined();
    const tdx = find(rendered(TDX_CREATED), 'StatefulSet', 'veil-worker').spec.template.spec;
    expect(tdx.runtimeClassName).toBe('kata-qemu-tdx');
    expect(tdx.volumes.map((v: { name: string }) => v.name)).not.toContain('configfs');
    const refused = renderChart(renderer, { valueFiles: ['ci/created-secrets-values.yaml'], set: ['worker.runtimeClassName=""'] });
    expect(refused).toMatchObject({ ok: false });
    expect((refused as { error: string }).error).toContain('worker.nodeSelector or worker.runtimeClassName');
  });

  test('the worker\'s arguments are flags `veil worker` accepts, and its message limit equals the gateway\'s', async () => {
    const objects = rendered(TDX_CREATED);
    const [command, ...args] = find(objects, 'StatefulSet', 'veil-worker').spec.template.spec.containers[0].args as string[];
    expect(command).toBe('worker');
    // parseArgs is strict: an unknown flag exits 2 before --help is looked at.
    expect((await captureCli(runWorker, [...args, '--help'])).code).toBe(0);
    const config = JSON.parse(find(objects, 'ConfigMap', 'veil-gateway').data['veil.json']);
    expect(args).toContain(`--max-message-bytes=${config.tee.maxMessageBytes}`);
    expect(config.tee.nodes).toEqual([0, 1, 2].map((i) => `veil-worker-${i}.veil-worker.default.svc:50061`));
  });

  test('NetworkPolicy: workers accept only this release\'s gateway pods, on the worker port', () => {
    const objects = rendered(SEV_SNP);
    const policy = find(objects, 'NetworkPolicy', 'veil-worker');
    const gatewayLabels = find(objects, 'Deployment', 'veil-gateway').spec.template.metadata.labels;
    const workerLabels = find(objects, 'StatefulSet', 'veil-worker').spec.template.metadata.labels;
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const [from] = policy.spec.ingress[0].from;
    expect(Object.entries(from.podSelector.matchLabels).every(([k, v]) => gatewayLabels[k] === v)).toBe(true);
    expect(Object.entries(from.podSelector.matchLabels).every(([k, v]) => workerLabels[k] === v)).toBe(false);
    expect(policy.spec.ingress[0].ports).toEqual([{ port: 50061, protocol: 'TCP' }]);
    expect(Object.entries(policy.spec.podSelector.matchLabels).every(([k, v]) => workerLabels[k] === v)).toBe(true);
  });

  test('pods run as non-root with a read-only root filesystem; state lives in volumes', () => {
    for (const o of rendered(SEV_SNP).filter((x) => ['Deployment', 'StatefulSet'].includes(x.object.kind))) {
      const pod = (o.object as any).spec.template.spec; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).not.toBe(0);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual(expect.arrayContaining(['/data', '/tmp']));
      }
    }
  });

  test('Secrets: referenced by name when they exist, created (base64) only when asked, never rendered into the ConfigMap', () => {
    const existing = rendered(SEV_SNP);
    expect(existing.filter((o) => o.object.kind === 'Secret')).toEqual([]);
    const volumes = find(existing, 'Deployment', 'veil-gateway').spec.template.spec.volumes;
    expect(volumes.filter((v: { secret?: unknown }) => v.secret).map((v: { secret: { secretName: string } }) => v.secret.secretName).sort())
      .toEqual(['veil-api-keys', 'veil-gateway-client-tls', 'veil-gateway-tls', 'veil-operator-key']);
    const created = rendered(TDX_CREATED);
    const tls = find(created, 'Secret', 'veil-gateway-tls');
    expect(Buffer.from(tls.data['tls.key'], 'base64').toString()).toBe('placeholder-key');
    expect(find(created, 'ConfigMap', 'veil-gateway').data['veil.json']).not.toContain('placeholder');
  });

  test('error: values that break values.schema.json or a required setting are refused, naming the value', () => {
    const bad = (set: string[], files = TDX_CREATED) => {
      const r = renderChart(renderer, { valueFiles: files, set });
      return r.ok ? 'rendered' : r.error;
    };
    expect(bad(['gateway.replicas=0'])).toContain('gateway.replicas');
    expect(bad(['worker.platform=sgx'])).toContain('worker.platform');
    expect(bad(['bogus=1'])).toContain('Additional property bogus is not allowed');
    expect(bad([], ['examples/values-sev-snp.yaml'])).toContain('secrets.gatewayTls: set existingSecret');
    expect(bad(['tee.measurements=null'])).toContain('tee.measurements');
  });
});

function leavesEnv(tree: ConfigTree): string[] {
  return Object.values(tree).flatMap((node) => (isConfigField(node) ? [node.env] : leavesEnv(node)));
}
