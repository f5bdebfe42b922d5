// The application-author example of the core README, run by packed-library.test.ts from a fresh app
// that installed the packed @vaultbridge/core: log in with the pod's service-account token (secret
// zero) and read one KV secret, importing only the entries an application needs.
import { KvSecrets, VaultClient } from '@vaultbridge/core/vault';
import { FileTokenSource, KubernetesAuth, TokenManager } from '@vaultbridge/core/auth';

const manager = new TokenManager({
  client: new VaultClient({ address: process.env.VAULT_ADDR }),
  auth: new KubernetesAuth({
    role: process.env.VAULT_ROLE,
    // In a pod: the default path, /var/run/secrets/kubernetes.io/serviceaccount/token.
    tokenSource: new FileTokenSource({ path: process.env.TOKEN_FILE }),
  }),
});
const secret = await new KvSecrets(manager.client).read(process.env.SECRET_PATH);
console.log(`greeting=${secret.data.greeting}`);
await manager.stop({ revoke: true });
