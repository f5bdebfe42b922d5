// Network containment: pods reach each other and the host's own stack, and the stack's firewall
// chain drops what they send anywhere else, so nothing a test does leaves the machine.
import { execFileSync } from 'node:child_process';
import { appNamespace, clusterStack, podLog, waitFor, type ClusterStack } from './support.ts';

const env: ClusterStack = clusterStack();
const chain = 'VAULTBRIDGE-CONTAIN';

/** Packets the chain's DROP rule has counted so far. */
function droppedPackets(): number {
  const out = execFileSync('iptables', ['-w', '-L', chain, '-v', '-x', '-n'], { encoding: 'utf8' });
  const drop = out.split('\n').find((line) => /\bDROP\b/.test(line));
  if (!drop) throw new Error(`the ${chain} chain has no DROP rule:\n${out}`);
  return Number(drop.trim().split(/\s+/)[0]);
}

/** Node one-liner: try a TCP connection and print the outcome. */
const connect = (host: string, port: number): string =>
  `node -e "const s=require('net').connect(${port},'${host}');s.setTimeout(3000);s.on('connect',()=>{console.log('${host}:${port} connected');s.destroy()});s.on('timeout',()=>{console.log('${host}:${port} timeout');s.destroy()});s.on('error',e=>console.log('${host}:${port} '+e.code))"`;

describe('the pod network', () => {
  it('lets a pod reach the API server on the node and drops its traffic to the outside world', async () => {
    const namespace = await appNamespace(env, 'net');
    const apiPort = Number(new URL(env.stack.handle.apiServer.url).port);
    const before = droppedPackets();
    await env.stack.kube.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'probe' },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'probe',
              image: env.cluster.images.injector,
              imagePullPolicy: 'Never',
              command: ['/bin/sh', '-c', `${connect(env.cluster.nodeAddress, apiPort)}; ${connect('192.0.2.1', 443)}`],
            },
          ],
        },
      },
    });
    await waitFor(env, namespace, 'the probe pod finishing', async () => {
      const pod = await env.stack.kube.core.readNamespacedPod({ namespace, name: 'probe' });
      if (pod.status?.phase === 'Failed') throw new Error('the probe pod failed');
      return pod.status?.phase === 'Succeeded' ? true : undefined;
    });
    const log = await podLog(env, namespace, 'probe', 'probe');
    expect(log).toContain(`${env.cluster.nodeAddress}:${apiPort} connected`);
    // 192.0.2.1 (TEST-NET-1) is outside: the SYN is forwarded towards the host's uplink and dropped.
    expect(log).toContain('192.0.2.1:443 timeout');
    expect(droppedPackets()).toBeGreaterThan(before);
  });
});
