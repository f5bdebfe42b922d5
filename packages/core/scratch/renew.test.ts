import { sharedStack } from '@vaultbridge/testenv';
import { KubernetesAuth } from '../src/auth/index.ts';
import { TokenRequestSource } from '../src/kube/index.ts';
import { VaultClient } from '../src/vault/index.ts';
test('probe', async () => {
  const stack = sharedStack();
  const ns = stack.uniqueName('ns'); const role = stack.uniqueName('role');
  await stack.createServiceAccount(ns, 'app');
  await stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [ns], policies: ['default'], ttl: '3s', maxTtl: '5s' });
  const auth = new KubernetesAuth({ role, tokenSource: new TokenRequestSource({ kubeConfig: stack.kube.config, namespace: ns, serviceAccount: 'app' }) });
  const client = new VaultClient({ address: stack.vaultAddr, maxRetries: 0 });
  const login = await auth.login(client);
  const t0 = Date.now();
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 800));
    const r = await client.withToken(login.clientToken).write('auth/token/renew-self', { increment: '3s' }).then((x) => `${x?.auth?.lease_duration} ${JSON.stringify(x?.warnings)}`, (e) => String(e.message));
    console.log(Date.now() - t0, r);
  }
}, 20000);
