import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@vaultbridge/core';
import { generateHmacKey } from './mount.ts';
import { loadProviderService, ProviderServer } from './server.ts';
import { warmUpGrpc, warmUpMountPath } from './warm-up.ts';

describe('warm-up', () => {
  it('runs the mount path on made-up input, without Vault, and returns the sample with the default connection', () => {
    const config = warmUpMountPath(
      loadProviderService(),
      { vaultAddr: 'https://vault.example:8200', vaultMount: 'kubernetes', tls: {} },
      generateHmacKey(),
    );
    expect(config.objects.map((object) => [object.objectName, object.method])).toEqual([
      ['username', 'GET'],
      ['dir/password', 'GET'],
      ['whole.json', 'GET'],
      ['blob', 'GET'],
      ['cert', 'PUT'],
    ]);
    expect(config.connection.address).toBe('https://vault.example:8200');
  });

  it('one Version call goes through grpc-js behind the authority rewriter and its trailers come back', async () => {
    const server = new grpc.Server();
    const service = loadProviderService();
    let served = 0;
    server.addService(service, {
      Version: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        served += 1;
        callback(null, { version: 'v1alpha1', runtime_name: 'test', runtime_version: '0' });
      },
      Mount: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNIMPLEMENTED }),
    });
    const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    try {
      expect(await warmUpGrpc(service, injector, 30_000)).toBe(true);
      expect(served).toBe(1);
    } finally {
      server.forceShutdown();
    }
  });

  it('a provider whose Vault is unreachable still warms up, starts and serves', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-warm-up-'));
    const lines: string[] = [];
    const server = new ProviderServer({
      logger: createLogger({
        name: 'warm-up-test',
        level: 'debug',
        destination: { write: (line: string) => lines.push(line) },
      }),
      // Port 9 on loopback: nothing listens, the warm-up's sys/health is refused at once.
      flags: { vaultAddr: 'http://127.0.0.1:9', vaultMount: 'kubernetes', tls: {} },
      env: {},
    });
    const socketPath = path.join(dir, 'vault.sock');
    try {
      await server.listen(socketPath);
      const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toEqual(
        expect.arrayContaining([
          'warm-up request to Vault failed; serving anyway',
          'mount path warmed up',
          'serving v1alpha1.CSIDriverProvider',
        ]),
      );
      expect(messages.indexOf('mount path warmed up')).toBeLessThan(
        messages.indexOf('serving v1alpha1.CSIDriverProvider'),
      );
      const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
      const client = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
        Version(
          request: unknown,
          callback: (error: grpc.ServiceError | null, response: { runtime_name: string }) => void,
        ): void;
      };
      const version = await new Promise<{ runtime_name: string }>((resolve, reject) =>
        client.Version({ version: 'v1alpha1' }, (error, response) => (error ? reject(error) : resolve(response))),
      );
      expect(version.runtime_name).toBe('vaultbridge-csi-provider');
      client.close();
    } finally {
      await server.close(1000);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
