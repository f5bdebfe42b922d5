import path from 'node:path';

/**
 * Where the one-node cluster keeps its state and which addresses it uses. One cluster per machine:
 * the bridge, the firewall chain and port 53 on the gateway are machine-wide.
 */
export interface ClusterLayout {
  /** Survives between runs: built images, containerd's content; everything else is rebuilt by `up`. */
  stateDir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  cniConfDir: string;
  cniDataDir: string;
  kubeletRoot: string;
  imagesDir: string;
  /** The CSI provider's socket directory on the host (the chart's csiProvider.providersDir). */
  providersDir: string;
  nodeName: string;
  bridge: string;
  podCidr: string;
  /** The bridge's own address: the node IP, where the API server, Vault and DNS listen for pods. */
  gateway: string;
  /** The `kubernetes` Service's ClusterIP (first address of the Service range). */
  kubernetesServiceIp: string;
  clusterDomain: string;
  firewallChain: string;
}

export function clusterLayout(
  stateDir = process.env.VAULTBRIDGE_CLUSTER_DIR ?? '/var/lib/vaultbridge-cluster',
): ClusterLayout {
  return {
    stateDir,
    containerdRoot: path.join(stateDir, 'containerd/root'),
    containerdState: '/run/vaultbridge-cluster/containerd',
    // Short: a unix socket path must fit in 108 bytes.
    containerdSocket: '/run/vaultbridge-cluster/containerd.sock',
    cniConfDir: path.join(stateDir, 'cni/net.d'),
    cniDataDir: path.join(stateDir, 'cni/ipam'),
    kubeletRoot: path.join(stateDir, 'kubelet'),
    imagesDir: path.join(stateDir, 'images'),
    providersDir: '/var/run/secrets-store-csi-providers',
    nodeName: 'vaultbridge-node',
    bridge: 'vbr0',
    podCidr: '10.77.0.0/16',
    gateway: '10.77.0.1',
    kubernetesServiceIp: '10.0.0.1',
    clusterDomain: 'cluster.local',
    firewallChain: 'VAULTBRIDGE-CONTAIN',
  };
}
