// openEventStream takes the client's address, namespace and token (VaultClient.eventStreamTarget), and
// refuses a unix socket address, over which Vault's WebSocket cannot be reached. Nothing connects: the
// streams are never started.
import { VaultClient } from './client.ts';
import { VaultConfigError } from './errors.ts';
import { openEventStream } from './events.ts';

describe('openEventStream', () => {
  it("connects where the client does, in its namespace, with the client's current token", async () => {
    let token = 'first';
    const client = new VaultClient({ address: 'https://vault.example:8200', tokenProvider: () => token }).withNamespace(
      'team-a',
    );
    const target = client.eventStreamTarget();
    expect(target.apiBaseUrl).toBe('https://vault.example:8200/v1/');
    expect(target.namespace).toBe('team-a');
    expect(await target.token()).toBe('first');
    token = 'renewed';
    expect(await target.token()).toBe('renewed');
    const stream = openEventStream(client, { onEvent: () => undefined });
    stream.close();
  });

  it('refuses a unix socket address', () => {
    const client = new VaultClient({ address: 'unix:///var/run/vault/agent.sock', token: 'unused' });
    expect(() => openEventStream(client, { onEvent: () => undefined })).toThrow(VaultConfigError);
    expect(() => openEventStream(client, { onEvent: () => undefined })).toThrow(/unix socket address/);
  });
});
