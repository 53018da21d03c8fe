import type { RenderedObject } from './render-chart';

type ModelClass = new (data: unknown) => { validate(): void };

/** The kubernetes-models class of every built-in kind the chart renders (apiVersion/kind → module path). */
const MODELS: Record<string, () => ModelClass> = {
  'v1/ConfigMap': () => require('kubernetes-models/v1/ConfigMap').ConfigMap,
  'v1/Secret': () => require('kubernetes-models/v1/Secret').Secret,
  'v1/Service': () => require('kubernetes-models/v1/Service').Service,
  'v1/ServiceAccount': () => require('kubernetes-models/v1/ServiceAccount').ServiceAccount,
  'apps/v1/Deployment': () => require('kubernetes-models/apps/v1/Deployment').Deployment,
  'apps/v1/StatefulSet': () => require('kubernetes-models/apps/v1/StatefulSet').StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': () => require('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler').HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': () => require('kubernetes-models/policy/v1/PodDisruptionBudget').PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': () => require('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').NetworkPolicy,
};

/**
 * Validates one rendered object against the Kubernetes OpenAPI schema of its kind (kubernetes-models 4.5.1, Kubernetes
 * 1.3x schemas), or, for the prometheus-operator ServiceMonitor CRD, against the CRD fields the chart uses. Returns the
 * problems (empty = valid). An unknown kind is a problem: the chart must not render what the tests cannot check.
 */
export function validateKubernetesObject({ object }: RenderedObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  if (key === 'monitoring.coreos.com/v1/ServiceMonitor') return validateServiceMonitor(object);
  const model = MODELS[key];
  if (!model) return [`no schema for ${key}`];
  try {
    new (model())(object).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/**
 * The ServiceMonitor fields the chart sets, checked as monitoring.coreos.com/v1 defines them (prometheus-operator
 * CRD `servicemonitors.monitoring.coreos.com`): spec.selector is required, endpoints[].port names a Service port,
 * interval is a Prometheus duration, namespaceSelector.matchNames a list of names.
 */
function validateServiceMonitor(object: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const spec = object.spec as Record<string, unknown> | undefined;
  const meta = object.metadata as { name?: unknown } | undefined;
  if (typeof meta?.name !== 'string' || meta.name === '') problems.push('metadata.name is required');
  if (!spec || typeof spec !== 'object') return [...problems, 'spec is required'];
  const known = new Set(['selector', 'namespaceSelector', 'endpoints', 'jobLabel', 'targetLabels', 'podTargetLabels', 'sampleLimit']);
  for (const k of Object.keys(spec)) if (!known.has(k)) problems.push(`spec.${k} is not a ServiceMonitor field the chart may use`);
  const selector = spec.selector as { matchLabels?: Record<string, unknown> } | undefined;
  if (!selector || typeof selector !== 'object') problems.push('spec.selector is required');
  else if (!selector.matchLabels || Object.values(selector.matchLabels).some((v) => typeof v !== 'string')) problems.push('spec.selector.matchLabels must map strings to strings');
  const ns = spec.namespaceSelector as { matchNames?: unknown } | undefined;
  if (ns !== undefined && (!Array.isArray(ns.matchNames) || !ns.matchNames.every((n) => typeof n === 'string'))) problems.push('spec.namespaceSelector.matchNames must be a list of strings');
  const endpoints = spec.endpoints;
  if (!Array.isArray(endpoints) || endpoints.length === 0) problems.push('spec.endpoints must be a non-empty list');
  else {
    endpoints.forEach((e: Record<string, unknown>, i) => {
      if (typeof e.port !== 'string') problems.push(`spec.endpoints[${i}].port must be a port name`);
      if (e.path !== undefined && (typeof e.path !== 'string' || !e.path.startsWith('/'))) problems.push(`spec.endpoints[${i}].path must be an absolute path`);
      if (e.interval !== undefined && !/^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/.test(String(e.interval))) {
        problems.push(`spec.endpoints[${i}].interval must be a Prometheus duration`);
      }
    });
  }
  return problems;
}
