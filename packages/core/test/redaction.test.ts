// A full run against the real Vault and API server with everything a service would log going through
// createLogger: logins, renewals, KV reads, database credentials, a certificate, a permission error
// and an unreachable Vault. The captured output must hold none of the tokens or secret values.
import { Writable } from 'node:stream';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  KubernetesAuth,
  KvSecrets,
  LeaseManager,
  TokenManager,
  TokenRequestSource,
  VaultClient,
  createLogger,
  issueCertificate,
  readDynamicSecret,
} from '../src/index.ts';

let stack: TestStack;
beforeAll(() => {
  stack = sharedStack();
});

it('logs a whole run without one token or secret value in it', async () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ name: 'redaction-run', level: 'trace', destination });

  const ns = stack.uniqueName('redact');
  await stack.createServiceAccount(ns, 'app');
  await stack.writePolicy(
    ns,
    `
    path "secret/data/${ns}/*" { capabilities = ["read"] }
    path "${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}" { capabilities = ["read"] }
    path "${stack.layout.pkiMount}/issue/${stack.layout.pkiRole}" { capabilities = ["update"] }
    path "sys/leases/*" { capabilities = ["update"] }`,
  );
  await stack.writeKubernetesRole(ns, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [ns],
    audience: 'vault',
    ttl: '1h',
  });
  const kvSecret = { password: `pw-${stack.uniqueName('v')}`, apiKey: `key-${stack.uniqueName('v')}` };
  await stack.vaultAdmin.write(`secret/data/${ns}/app`, { data: kvSecret });

  const tokenSource = new TokenRequestSource({
    kubeConfig: stack.kube.config,
    namespace: ns,
    serviceAccount: 'app',
    audiences: ['vault'],
  });
  const manager = new TokenManager({
    client: new VaultClient({ address: stack.vaultAddr }),
    auth: new KubernetesAuth({ role: ns, tokenSource }),
  });
  manager.on('login', (info) => logger.info({ event: 'login', info }, 'logged in'));
  manager.on('renewed', (info) => logger.info({ event: 'renewed', info }, 'token renewed'));
  manager.on('error', (e) => logger.error({ err: e.error, operation: e.operation }, 'token error'));
  const info = await manager.authenticate();
  const vaultToken = await manager.token();
  const serviceAccountJwt = await tokenSource.token();
  logger.debug({ info, client: manager.client }, 'token manager state');

  const kv = await new KvSecrets(manager.client).read(`secret/${ns}/app`);
  logger.info({ secret: kv, path: kv.path }, 'read KV secret');

  const leases = new LeaseManager({ client: manager.client });
  const creds = await readDynamicSecret<{ username: string; password: string }>(
    manager.client,
    `${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}`,
  );
  leases.on('renewed', (e) => logger.info({ lease: e }, 'lease renewed'));
  leases.track(creds, {
    reissue: () =>
      readDynamicSecret(manager.client, `${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}`),
  });
  logger.info({ creds }, 'database credentials');

  const cert = await issueCertificate(manager.client, {
    role: stack.layout.pkiRole,
    commonName: `a.${stack.layout.pkiDomain}`,
    ttl: '1h',
  });
  logger.info({ cert }, 'certificate issued');

  const denied = await new KvSecrets(manager.client).read('secret/not-allowed/x').catch((error: unknown) => error);
  logger.warn({ err: denied }, 'permission denied as expected');
  const unreachable = await new VaultClient({ address: 'http://127.0.0.1:1', token: vaultToken, maxRetries: 1 })
    .read('secret/data/x')
    .catch((error: unknown) => error);
  logger.error({ err: unreachable }, 'Vault unreachable as expected');
  logger.info(`a careless message that embeds the token ${vaultToken} and the password ${kvSecret.password}`);

  leases.stop();
  await manager.stop();
  const output = lines.join('');
  const secrets: Record<string, string> = {
    vaultToken,
    serviceAccountJwt,
    kvPassword: kvSecret.password,
    kvApiKey: kvSecret.apiKey,
    dbPassword: creds.data.password,
    privateKey: cert.privateKey.split('\n')[1] ?? cert.privateKey,
  };
  expect(lines.length).toBeGreaterThanOrEqual(8);
  expect(info.policies).toContain(ns);
  for (const [name, value] of Object.entries(secrets)) {
    expect(value.length).toBeGreaterThan(8);
    if (output.includes(value)) throw new Error(`${name} appears in the log output`);
  }
  // Redaction must not blind the logs: what is not secret stays readable.
  expect(output).toContain(`secret/${ns}/app`);
  expect(output).toContain('permission denied as expected');
  expect(output).toContain(creds.leaseId);
});
