import net from 'node:net';

/** Asks the kernel for a free TCP port on loopback. The port is released before it is returned. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port the kernel assigned'));
        return;
      }
      const port = address.port;
      server.close(() => resolve(port));
    });
  });
}
