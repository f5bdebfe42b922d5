// The local demo. Until the three delivery methods land, it brings up the real stack, writes a
// demo secret and prints how to use the stack; it stays up until Ctrl-C.
import { startStack } from '@vaultbridge/testenv';

const stack = await startStack({ onProgress: (message) => console.error(`[demo] ${message}`) });
const stop = async (): Promise<void> => {
  console.error('[demo] stopping');
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/demo/app`, { data: { username: 'demo', password: 'rotate-me' } });
const h = stack.handle;
console.log(`
The Vaultbridge test stack is up (Ctrl-C stops it):
  kube-apiserver  ${h.apiServer.url}
  Vault           ${h.vault.addr}  (through the request-counting proxy; root token ${h.vault.token})
  PostgreSQL      ${h.postgres?.host}:${h.postgres?.port}

Use it from another shell:
  export KUBECONFIG=${h.kubeconfigPath} VAULT_ADDR=${h.vault.addr} VAULT_TOKEN=${h.vault.token}
  curl -s -H "X-Vault-Token: $VAULT_TOKEN" $VAULT_ADDR/v1/secret/data/demo/app
  curl -s $VAULT_ADDR/_testenv/requests      # Vault requests counted by method and path
`);
