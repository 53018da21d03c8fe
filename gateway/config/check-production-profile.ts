import type { VeilConfig } from './config-schema';
import type { ConfigProblem, ConfigSources } from './config-error';

/**
 * The production profile's refusals: every development-only setting, and every security setting left at its
 * development default, is a problem naming the setting, why, and where its value came from. The gateway does not start
 * with any of them (loadConfig throws them together), so an unsafe deployment fails loudly instead of serving.
 * This checks that the settings are present; using them (TLS, API keys, mTLS) is the job of the code that reads them.
 */
export function checkProductionProfile(config: VeilConfig, sourceOf: ConfigSources): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // A list entry's source is its list's (`/tee/measurements/0` came from wherever `/tee/measurements` did).
  const refuse = (path: string, message: string) => problems.push({ path, message: `${message} (profile=production)`, source: sourceOf(path.replace(/\/\d+$/, '')) });
  const unset = (value: string) => value === 'none';

  if (unset(config.grpc.tlsCertFile)) refuse('/grpc/tlsCertFile', 'TLS is required: set the PEM certificate chain the gateway presents');
  if (unset(config.grpc.tlsKeyFile)) refuse('/grpc/tlsKeyFile', 'TLS is required: set the PEM private key of grpc.tlsCertFile');
  // issue #10: the HTTP surface carries the same calls as gRPC (API keys, sealed bytes, evidence), so it needs TLS too.
  if (config.http.enabled) {
    if (unset(config.http.tlsCertFile)) refuse('/http/tlsCertFile', 'TLS is required on the HTTP API: set the PEM certificate chain it presents (or http.enabled=false)');
    if (unset(config.http.tlsKeyFile)) refuse('/http/tlsKeyFile', 'TLS is required on the HTTP API: set the PEM private key of http.tlsCertFile');
  }
  if (config.auth.mode !== 'api-keys') refuse('/auth/mode', `must be "api-keys": every call needs an API key (got "${config.auth.mode}")`);

  const { tee, chain } = config;
  if (tee.enabled) {
    if (tee.local) refuse('/tee/local', 'must be false: the in-process node is SIMULATED and proves nothing about hardware');
    if (tee.allowSimulated) refuse('/tee/allowSimulated', 'must be false: SIMULATED evidence proves nothing about hardware');
    if (tee.measurements.length === 0) {
      refuse('/tee/measurements', 'must list the measurements nodes may run, as "<platform>:<hex>" (nothing is admitted otherwise)');
    }
    tee.measurements.forEach((entry, i) => {
      if (entry === 'any' || entry.endsWith(':any')) {
        refuse(`/tee/measurements/${i}`, `"${entry}" admits any measurement: pin "<platform>:<hex>" values`);
      } else if (entry.startsWith('simulated:')) {
        refuse(`/tee/measurements/${i}`, `"${entry.slice(0, 26)}…" is a SIMULATED measurement`);
      }
    });
    if (tee.nodes.length > 0) {
      // Without mutual TLS anyone on the path sees which model is called when, and can impersonate either end.
      if (unset(tee.nodeCaFile)) refuse('/tee/nodeCaFile', 'mutual TLS to tee.nodes is required: set the CA that signed the nodes\' certificates');
      if (unset(tee.clientCertFile)) refuse('/tee/clientCertFile', 'mutual TLS to tee.nodes is required: set the client certificate the gateway presents');
      if (unset(tee.clientKeyFile)) refuse('/tee/clientKeyFile', 'mutual TLS to tee.nodes is required: set the private key of tee.clientCertFile');
    }
  }
  if (chain.enabled) {
    if (chain.rpcUrl === 'embedded') {
      refuse('/chain/rpcUrl', 'the embedded anvil dev chain is for development: set the JSON-RPC URL of a real chain, or chain.enabled=false');
    } else if (!/^(https?|wss?):\/\/[^\s/]+/.test(chain.rpcUrl)) {
      refuse('/chain/rpcUrl', 'must be an http(s):// or ws(s):// JSON-RPC URL');
    }
    if (!/^0x[0-9a-fA-F]{40}$/.test(chain.registryAddress)) {
      refuse('/chain/registryAddress', `must be the registry contract's 0x address ("${chain.registryAddress.slice(0, 20)}" deploys a dev registry)`);
    }
  }
  return problems;
}
