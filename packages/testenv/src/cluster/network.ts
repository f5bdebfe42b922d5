import fs from 'node:fs';
import path from 'node:path';
import type { ClusterLayout } from './layout.ts';
import { run, succeeds } from './run.ts';

/**
 * The pod network: a bridge the stack owns, holding the gateway address before anything listens on
 * it; the CNI config that puts every pod on it; forwarding with bridged traffic through iptables (so
 * kube-proxy's Service rules see pod-to-pod traffic); and the containment chain. Idempotent.
 */
export async function setUpNetwork(layout: ClusterLayout): Promise<void> {
  const prefix = layout.podCidr.split('/')[1];
  if (!(await succeeds('ip', ['link', 'show', layout.bridge]))) {
    await run('ip', ['link', 'add', layout.bridge, 'type', 'bridge']);
  }
  const addresses = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', layout.bridge]);
  if (!addresses.includes(` ${layout.gateway}/`)) {
    await run('ip', ['addr', 'add', `${layout.gateway}/${prefix}`, 'dev', layout.bridge]);
  }
  await run('ip', ['link', 'set', layout.bridge, 'up']);
  writeSysctl('net/ipv4/ip_forward', '1');
  writeSysctl('net/bridge/bridge-nf-call-iptables', '1');
  await containForwardedTraffic(layout);
  writeCniConfig(layout);
}

function writeSysctl(name: string, value: string): void {
  const file = path.join('/proc/sys', name);
  if (!fs.existsSync(file))
    throw new Error(
      `${file} is missing: the kernel lacks ${name.includes('bridge') ? 'br_netfilter' : 'IPv4 forwarding'}, which the pod network needs`,
    );
  fs.writeFileSync(file, value);
}

/**
 * Forwarded packets from the pod range may go to other pods only; anything else (the outside
 * world) is dropped. Traffic to the host's own addresses is not forwarded (INPUT), so the API
 * server, Vault and DNS on the gateway stay reachable. The chain is rebuilt on every start and
 * jumped to first in FORWARD, before kube-proxy's own rules.
 */
async function containForwardedTraffic(layout: ClusterLayout): Promise<void> {
  const chain = layout.firewallChain;
  if (!(await succeeds('iptables', ['-w', '-L', chain, '-n']))) await run('iptables', ['-w', '-N', chain]);
  await run('iptables', ['-w', '-F', chain]);
  await run('iptables', ['-w', '-A', chain, '-s', layout.podCidr, '-d', layout.podCidr, '-j', 'ACCEPT']);
  await run('iptables', ['-w', '-A', chain, '-s', layout.podCidr, '-j', 'DROP']);
  if (!(await succeeds('iptables', ['-w', '-C', 'FORWARD', '-j', chain]))) {
    await run('iptables', ['-w', '-I', 'FORWARD', '1', '-j', chain]);
  }
}

function writeCniConfig(layout: ClusterLayout): void {
  fs.mkdirSync(layout.cniConfDir, { recursive: true });
  const config = {
    cniVersion: '0.4.0',
    name: 'vaultbridge',
    plugins: [
      {
        type: 'bridge',
        bridge: layout.bridge,
        isGateway: true,
        // No masquerading: nothing from a pod is meant to leave the machine.
        ipMasq: false,
        // A pod reaching itself through a Service comes back over its own port.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: layout.podCidr, gateway: layout.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: layout.cniDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  fs.writeFileSync(path.join(layout.cniConfDir, '10-vaultbridge.conflist'), JSON.stringify(config, null, 2));
}

/** Chains the kubelet creates for itself (kube-proxy's own are removed by `kube-proxy --cleanup`). */
const kubeletChains: Record<string, string[]> = {
  filter: ['KUBE-FIREWALL', 'KUBE-KUBELET-CANARY'],
  nat: ['KUBE-KUBELET-CANARY'],
  mangle: ['KUBE-KUBELET-CANARY', 'KUBE-IPTABLES-HINT'],
};

/**
 * Removes the kubelet's iptables chains and the rules that jump to them, so a stopped cluster leaves
 * only its own (inert) containment chain and bridge behind.
 */
export async function removeKubeletChains(): Promise<void> {
  for (const [table, chains] of Object.entries(kubeletChains)) {
    const rules = await run('iptables', ['-w', '-t', table, '-S']).catch(() => '');
    for (const chain of chains) {
      for (const rule of rules.split('\n').filter((line) => line.startsWith('-A ') && line.includes(`-j ${chain}`))) {
        await run('iptables', ['-w', '-t', table, '-D', ...rule.slice(3).split(' ')]).catch(() => undefined);
      }
      if (rules.includes(`-N ${chain}`)) {
        await run('iptables', ['-w', '-t', table, '-F', chain]).catch(() => undefined);
        await run('iptables', ['-w', '-t', table, '-X', chain]).catch(() => undefined);
      }
    }
  }
}
