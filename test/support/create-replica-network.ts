/**
 * Where the scale-out test's gateways live. As root with `ip netns` available, each gateway gets its own network
 * namespace joined to this one by a veth pair, so every call the test makes crosses a real interface pair and the
 * gateways cannot reach each other or anything else over loopback. Otherwise (not root, no iproute2, a sandbox
 * without CAP_NET_ADMIN) everything runs on loopback, and `mode` says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type ReplicaNetwork = {
  mode: 'netns' | 'loopback';
  /** Why the network is loopback, when it is. */
  reason?: string;
  /** An address of this namespace the gateways can reach (what PostgreSQL, anvil and the workers are offered on). */
  hub: string;
  /** Gateway i's address, as seen from here; it binds `bind[i]`. */
  hosts: string[];
  bind: string[];
  /** The command prefix that runs a program in gateway i's namespace ([] on loopback). */
  prefix(i: number): string[];
  close(): void;
};

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
const ip = (...args: string[]) => execFileSync(IP!, args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** `count` namespaces `veil<tag>g<i>` with veth pairs on 10.<o>.<i>.0/30 (o from the pid, so parallel runs differ). */
export function createReplicaNetwork(count: number): ReplicaNetwork {
  const loopback = (reason: string): ReplicaNetwork => ({
    mode: 'loopback', reason, hub: '127.0.0.1', hosts: Array(count).fill('127.0.0.1'), bind: Array(count).fill('127.0.0.1'), prefix: () => [], close: () => undefined,
  });
  if (process.env.VEIL_TEST_NO_NETNS === '1') return loopback('VEIL_TEST_NO_NETNS=1');
  if (process.getuid?.() !== 0) return loopback('not root');
  if (!IP) return loopback('iproute2 (ip) not found');
  const tag = String(process.pid % 10_000);
  const octet = 100 + (process.pid % 100);
  const made: string[] = [];
  const close = () => {
    // Deleting a namespace deletes the veth end inside it, and with it the pair.
    for (const ns of made.splice(0)) {
      try {
        ip('netns', 'delete', ns);
      } catch {
        // already gone
      }
    }
  };
  try {
    const hosts: string[] = [];
    for (let i = 0; i < count; i++) {
      const ns = `veil${tag}g${i}`;
      const outer = `vv${tag}o${i}`;
      const inner = `vv${tag}i${i}`;
      ip('netns', 'add', ns);
      made.push(ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', ns);
      ip('addr', 'add', `10.${octet}.${i}.1/30`, 'dev', outer);
      ip('link', 'set', outer, 'up');
      ip('-n', ns, 'addr', 'add', `10.${octet}.${i}.2/30`, 'dev', inner);
      ip('-n', ns, 'link', 'set', inner, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // The hub (this side of pair 0) is reached from every namespace through its own pair: Linux answers for any of
      // its local addresses on any interface.
      ip('-n', ns, 'route', 'add', 'default', 'via', `10.${octet}.${i}.1`);
      hosts.push(`10.${octet}.${i}.2`);
    }
    process.once('exit', close);
    return { mode: 'netns', hub: `10.${octet}.0.1`, hosts, bind: hosts, prefix: (i) => [IP!, 'netns', 'exec', made[i]!], close };
  } catch (err) {
    close();
    return loopback(`ip netns failed: ${((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim()}`);
  }
}
