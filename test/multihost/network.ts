/**
 * A small network of hosts made of Linux network namespaces: one "switch" namespace holds a
 * bridge, every host is a namespace joined to it by a veth pair, with an address the test
 * chose in 10.231.<n>.0/24. Nothing is added to the machine's own namespace, and nothing
 * leaves the namespaces this creates. A host is cut off by setting its link down inside
 * its namespace. destroy() removes everything, also after a failed test.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface Host {
  name: string;
  netns: string;
  address: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Whether this machine can build such a network: root, the ip tool, network namespaces. */
export function networkNamespacesAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `ip netns does not work: ${probe.error?.message ?? probe.stderr}`;
  return undefined;
}

export class TestNetwork {
  readonly hosts = new Map<string, Host>();
  readonly switchNs: string;
  /** The bridge's own address: the test's CLI speaks from the switch namespace with it. */
  readonly gateway: string;
  private readonly prefix: string;
  private readonly subnet: string;
  private next = 2;

  constructor() {
    // Short, unique names (interface names have 15 characters at most).
    const id = (process.pid % 9000) + 1000;
    this.prefix = `w${id}`;
    this.subnet = `10.231.${(process.pid % 200) + 20}`;
    this.switchNs = `${this.prefix}-sw`;
    this.gateway = `${this.subnet}.1`;
    this.destroy(); // leftovers of an earlier run with the same pid
    ip('netns', 'add', this.switchNs);
    ip('-n', this.switchNs, 'link', 'set', 'lo', 'up');
    ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.switchNs, 'addr', 'add', `${this.gateway}/24`, 'dev', 'br0');
    ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
  }

  addHost(name: string): Host {
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const n = this.next++;
    const netns = `${this.prefix}-${name}`;
    const address = `${this.subnet}.${n}`;
    ip('netns', 'add', netns);
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    // Both ends are made inside the host's namespace, then one end moves to the switch.
    ip('-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${n}`);
    ip('-n', netns, 'link', 'set', `p${n}`, 'netns', this.switchNs);
    ip('-n', this.switchNs, 'link', 'set', `p${n}`, 'master', 'br0');
    ip('-n', this.switchNs, 'link', 'set', `p${n}`, 'up');
    ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', netns, 'link', 'set', 'eth0', 'up');
    const host = { name, netns, address };
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** The host's only link goes down: nothing reaches it and it reaches nothing. */
  cut(name: string): void {
    ip('-n', this.host(name).netns, 'link', 'set', 'eth0', 'down');
  }

  heal(name: string): void {
    ip('-n', this.host(name).netns, 'link', 'set', 'eth0', 'up');
  }

  /** Removes every namespace (their veths go with them); idempotent. */
  destroy(): void {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0];
      if (name && name.startsWith(`${this.prefix}-`)) spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore', timeout: 10_000 });
    }
    this.hosts.clear();
  }
}
