// A TCP proxy whose connections a test can cut: every open connection is destroyed and new ones are
// refused until it is restored, as when a server restarts or a network link drops. TLS passes through
// untouched, so clients talk to the real server (the API server) as they would without it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export class InterruptibleTcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'forward' | 'cut' | 'blackhole' = 'forward';
  private readonly target: { host: string; port: number };
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.target = target;
    this.server = net.createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Drops every open connection and resets new ones until {@link restore}. */
  cut(): void {
    this.mode = 'cut';
    this.dropAll();
  }

  /**
   * Drops every open connection and accepts new ones without ever answering until {@link restore}: a
   * request then hangs as on a dead link, and only the client's own deadline ends it.
   */
  blackhole(): void {
    this.mode = 'blackhole';
    this.dropAll();
  }

  restore(): void {
    this.mode = 'forward';
    // Held (blackholed) connections are dropped too: their requests were never sent upstream.
    this.dropAll();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private dropAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    if (this.mode === 'blackhole') {
      this.sockets.add(client);
      client.on('error', () => client.destroy()).on('close', () => this.sockets.delete(client));
      return;
    }
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  }
}

/**
 * A proxy in front of the API server of `kubeConfig`, with a KubeConfig (and its file, for a CLI) that
 * goes through it. The proxy listens on 127.0.0.1 like the API server, so its certificate still matches.
 */
export async function apiServerThroughProxy(
  kubeConfig: KubeConfig,
): Promise<{ proxy: InterruptibleTcpProxy; kubeConfig: KubeConfig; kubeconfigPath: string }> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  const proxy = new InterruptibleTcpProxy({ host: server.hostname, port: Number(server.port || 443) });
  const port = await proxy.listen();
  const proxied = new KubeConfig();
  proxied.loadFromString(kubeConfig.exportConfig());
  const through = `${server.protocol}//${server.hostname}:${port}`;
  proxied.clusters = proxied.clusters.map((entry) =>
    entry.name === cluster.name ? { ...entry, server: through } : entry,
  );
  const kubeconfigPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-proxied-')), 'kubeconfig');
  fs.writeFileSync(kubeconfigPath, proxied.exportConfig(), { mode: 0o600 });
  return { proxy, kubeConfig: proxied, kubeconfigPath };
}
