// A forward proxy as in a locked-down cluster: it answers CONNECT host:port by opening that connection and
// passing bytes both ways, and refuses plain requests. Tests read which targets were tunnelled to prove a
// client went through the proxy rather than around it.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ConnectProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Each CONNECT target (`host:port`), in the order asked. */
  readonly tunnels: readonly string[];
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  // Tunnelled sockets leave the HTTP server's bookkeeping (closeAllConnections does not see them), so
  // they are kept here for close() to end: a client that keeps its connection alive must not hold it open.
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_request, response) => response.writeHead(405).end());
  proxy.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = request.url ?? '';
    tunnels.push(target);
    const [host, port] = target.split(':');
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    tunnels,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
