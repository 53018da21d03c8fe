import { isIP } from 'node:net';
import { VeilClientError } from './veil-client-error';

/**
 * grpc-js's round_robin policy: one subchannel per resolved address, each call on the next READY one, so a replica
 * that went away is skipped as soon as its connection drops. Passed as `grpc.service_config` (gRFC A24).
 */
export const ROUND_ROBIN_SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/** A target naming several addresses itself: a `dns:` name (its A/AAAA records) or an `ipv4:`/`ipv6:` list. */
export function isMultiAddressTarget(target: string): boolean {
  return /^(dns|ipv4|ipv6):/.test(target);
}

/**
 * Several `host:port` gateway addresses as one grpc-js target (`ipv4:a:p,b:p` or `ipv6:[a]:p,[b]:p`), which the
 * round_robin policy balances over. grpc-js resolves such a list without DNS, so hosts must be IP literals
 * (`localhost` is taken as 127.0.0.1); for names, give one `dns:///name:port` target whose records list the replicas.
 * @throws {VeilClientError} `invalid_argument` for an empty list, a host name, a missing port or mixed families
 */
export function balancedTarget(targets: readonly string[]): string {
  if (targets.length === 0) throw new VeilClientError('invalid_argument', 'targets must name at least one gateway');
  const parsed = targets.map((t) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(t);
    const host = m ? (m[1] ?? m[2]!) : '';
    const ip = host === 'localhost' ? '127.0.0.1' : host;
    const family = isIP(ip);
    if (!m || family === 0 || Number(m[3]) > 65_535) {
      throw new VeilClientError('invalid_argument', `target "${t}" is not an IP:port (use one dns:///name:port target to balance over a name's records)`, undefined, 'targets');
    }
    return { family, address: family === 6 ? `[${ip}]:${m[3]}` : `${ip}:${m[3]}` };
  });
  const family = parsed[0]!.family;
  if (parsed.some((p) => p.family !== family)) throw new VeilClientError('invalid_argument', 'targets mix IPv4 and IPv6 addresses', undefined, 'targets');
  return `ipv${family}:${parsed.map((p) => p.address).join(',')}`;
}
