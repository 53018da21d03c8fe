import type { VeilConfig } from './config-schema';
import type { ConfigProblem } from './config-error';

const PATH = '/payments/enabled';

/**
 * Payment channels live on chain, so billing's default follows `chain.enabled`: a gateway started without a chain
 * (tests, an operator who turned the registry off) serves unpaid rather than refusing to start over a default the
 * operator never chose. Asked for explicitly without a chain, it is a configuration problem naming both settings.
 * Runs on the built (not yet frozen) config; the source it records is what `veil config` prints.
 */
/** A value's source as loadConfig records it (structural, so this file does not import its caller). */
type Sources = Map<string, { kind: string; label: string }>;

export function applyPaymentsDefault(config: VeilConfig, sources: Sources): ConfigProblem[] {
  if (!config.payments.enabled || config.chain.enabled) return [];
  const source = sources.get(PATH);
  if (source === undefined || source.kind === 'default') {
    (config.payments as { enabled: boolean }).enabled = false;
    sources.set(PATH, { kind: 'default', label: 'default (off: chain.enabled = false)' });
    return [];
  }
  return [{ path: PATH, message: 'payments.enabled needs chain.enabled = true: payment channels live on chain', source: source.label }];
}
