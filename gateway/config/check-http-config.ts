import type { VeilConfig } from './config-schema';
import type { ConfigProblem, ConfigSources } from './config-error';

/** Rules across `http.*` leaves that each parsed on their own (any profile). */
export function checkHttpConfig(config: VeilConfig, sourceOf: ConfigSources): ConfigProblem[] {
  const { http } = config;
  const problems: ConfigProblem[] = [];
  if (http.defaultDeadlineMs > http.maxDeadlineMs) {
    problems.push({
      path: '/http/defaultDeadlineMs',
      message: `must not exceed http.maxDeadlineMs (${http.maxDeadlineMs}), got ${http.defaultDeadlineMs}`,
      source: sourceOf('/http/defaultDeadlineMs'),
    });
  }
  // One file without the other would serve plain HTTP while the operator believes it is TLS.
  if ((http.tlsCertFile === 'none') !== (http.tlsKeyFile === 'none')) {
    const missing = http.tlsCertFile === 'none' ? '/http/tlsCertFile' : '/http/tlsKeyFile';
    problems.push({ path: missing, message: 'http.tlsCertFile and http.tlsKeyFile must be set together (or both "none" for plain HTTP)', source: sourceOf(missing) });
  }
  return problems;
}
