import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { VaultClient } from './client.ts';
import { VaultConfigError } from './errors.ts';

describe('maxSockets', () => {
  let server: http.Server;
  let address: string;
  const connections = new Set<unknown>();
  let mostConnections = 0;
  let waiting: (() => void)[] = [];

  beforeAll(async () => {
    // Holds each answer until the test releases it, so every request is in flight at once.
    server = http.createServer((_request, response) => {
      waiting.push(() => {
        response.setHeader('Content-Type', 'application/json');
        response.end('{"data":{"ok":true}}');
      });
    });
    server.on('connection', (socket) => {
      connections.add(socket);
      mostConnections = Math.max(mostConnections, connections.size);
      socket.on('close', () => connections.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function readAll(client: VaultClient, count: number): Promise<number> {
    mostConnections = connections.size;
    const reads = Array.from({ length: count }, (_, i) => client.read(`secret/item-${i}`));
    // Release answers as they arrive until all reads are done.
    let done = false;
    const all = Promise.all(reads).finally(() => (done = true));
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const release = waiting;
      waiting = [];
      for (const answer of release) answer();
    }
    const answers = await all;
    expect(answers.every((answer) => (answer.data as { ok?: boolean }).ok === true)).toBe(true);
    return mostConnections;
  }

  test('bounds the sockets open to Vault; the requests beyond it wait and all succeed', async () => {
    const client = new VaultClient({ address, maxSockets: 3 });
    expect(await readAll(client, 12)).toBe(3);
  });

  test('without it, one socket per request in flight (unchanged default)', async () => {
    server.closeAllConnections();
    const client = new VaultClient({ address });
    expect(await readAll(client, 12)).toBe(12);
  });

  test.each([0, -1, Number.NaN])('%s is refused naming the setting', (maxSockets) => {
    expect(() => new VaultClient({ address, maxSockets })).toThrow(VaultConfigError);
    expect(() => new VaultClient({ address, maxSockets })).toThrow(/maxSockets must be a positive number/);
  });
});
