// VaultAuthGlobal (issue 11, item 6) end to end against the real kube-apiserver and Vault 1.13, in our
// group and in VSO's (VSO group mode): VaultAuths that leave their login to a VaultAuthGlobal (VSO's
// docs' pattern: the global holds method, mount, role and service account) log in with the merged
// configuration and sync a VaultStaticSecret; a change of the global reaches the VaultAuths at once.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { OUR_API, VSO_API, type ApiGroup, type Condition } from '../src/api/common.ts';
import { installCrds } from '../src/install-crds.ts';
import { startOperator, type RunningOperator } from '../src/operator.ts';
import { deleteSyncedObjects } from './support/cleanup.ts';
import { decode, setUpAppRole, waitFor } from './support/e2e.ts';

const stack = sharedStack();
const { layout } = stack;
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);

interface Status {
  status?: { valid?: boolean; error?: string; conditions?: Condition[] };
}
const condition = (object: Status, type: string) => object.status?.conditions?.find((item) => item.type === type);

describe.each<[string, ApiGroup]>([
  ['our group', OUR_API],
  ["VSO's group", VSO_API],
])('in %s', (_name, api) => {
  const namespace = stack.uniqueName(api === VSO_API ? 'vag-vso' : 'vag');
  const vaultPath = `e2e/${namespace}/app`;
  let operator: RunningOperator | undefined;
  const create = (kind: string, name: string, spec: object) =>
    custom.createNamespacedCustomObject({
      ...api,
      namespace,
      plural: `${kind.toLowerCase()}s`,
      body: { apiVersion: `${api.group}/${api.version}`, kind, metadata: { name }, spec },
    });
  const read = <T>(kind: string, name: string) =>
    custom.getNamespacedCustomObject({ ...api, namespace, plural: `${kind.toLowerCase()}s`, name }) as Promise<T>;
  const patchGlobal = (name: string, spec: object) =>
    custom.patchNamespacedCustomObject(
      { ...api, namespace, plural: 'vaultauthglobals', name, body: { spec } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

  beforeAll(async () => {
    await installCrds(kubeConfig, undefined, { vsoGroup: api === VSO_API });
    await setUpAppRole(stack, namespace, vaultPath, { password: 'from-vault' });
    operator = await startOperator({
      kubeConfig,
      logger: createLogger({ name: 'vault-auth-global-e2e', level: 'warn' }),
      operatorNamespace: namespace,
      backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
      serveVsoApiGroup: api === VSO_API,
    });
  });

  afterAll(async () => {
    if (operator) await deleteSyncedObjects(custom, namespace, 10_000, api);
    await operator?.stop();
  });

  test('a VaultAuth naming only the default VaultAuthGlobal logs in with its method, mount, role and connection', async () => {
    await create('VaultConnection', 'vault', { address: stack.vaultAddr });
    // The default global of the operator namespace (VSO's allowDefault search), holding the whole login.
    await create('VaultAuthGlobal', 'default', {
      defaultAuthMethod: 'kubernetes',
      vaultConnectionRef: 'vault',
      kubernetes: { mount: layout.kubernetesAuthMount, role: namespace, serviceAccount: 'app', audiences: ['vault'] },
    });
    // A second global naming only the mount; this VaultAuth gives its own method block.
    await create('VaultAuthGlobal', 'mount-only', {
      defaultMount: layout.kubernetesAuthMount,
      vaultConnectionRef: 'vault',
    });
    await create('VaultAuth', 'auth', { vaultAuthGlobalRef: { allowDefault: true } });
    await create('VaultAuth', 'own-role', {
      vaultAuthGlobalRef: { name: 'mount-only' },
      method: 'kubernetes',
      kubernetes: { role: namespace, serviceAccount: 'app', audiences: ['vault'] },
    });
    for (const auth of ['auth', 'own-role']) {
      const healthy = await waitFor(`VaultAuth ${auth} Healthy`, async () => {
        const object = await read<Status>('VaultAuth', auth);
        return condition(object, 'Healthy')?.status === 'True' && object;
      });
      expect(condition(healthy, 'Healthy')?.message).toContain(`role "${namespace}"`);
    }
    const global = await waitFor('VaultAuthGlobal default valid', async () => {
      const object = await read<Status>('VaultAuthGlobal', 'default');
      return object.status?.valid === true && object;
    });
    expect(condition(global, 'Ready')).toMatchObject({ status: 'True', reason: 'Valid' });

    await create('VaultStaticSecret', 'app', {
      vaultAuthRef: 'auth',
      mount: 'secret',
      path: vaultPath,
      type: 'kv-v2',
      refreshAfter: '1h',
      destination: { name: 'app-secret', create: true },
    });
    const secret = await waitFor('app-secret synced through the global', () =>
      core.readNamespacedSecret({ namespace, name: 'app-secret' }).catch(() => undefined),
    );
    expect(decode(secret, 'password')).toBe('from-vault');
  });

  test('a change of the global reaches its VaultAuths at once; a global that leaves out the mount is refused naming it', async () => {
    await patchGlobal('default', { kubernetes: { role: 'no-such-role' } });
    const failing = await waitFor('VaultAuth auth unhealthy after the global changed', async () => {
      const object = await read<Status>('VaultAuth', 'auth');
      return condition(object, 'Healthy')?.status === 'False' && object;
    });
    expect(condition(failing, 'Healthy')?.message).toContain('no-such-role');
    await patchGlobal('default', { kubernetes: { role: namespace } });
    await waitFor('VaultAuth auth healthy again', async () => {
      const object = await read<Status>('VaultAuth', 'auth');
      return condition(object, 'Healthy')?.status === 'True' && object;
    });

    // own-role's global loses its mount: nothing gives one any more.
    await patchGlobal('mount-only', { defaultMount: null });
    const refused = await waitFor('VaultAuth own-role refused', async () => {
      const object = await read<Status>('VaultAuth', 'own-role');
      return condition(object, 'Healthy')?.status === 'False' && object;
    });
    expect(condition(refused, 'Healthy')).toMatchObject({ reason: 'InvalidVaultAuth' });
    expect(condition(refused, 'Healthy')?.message).toContain(
      `VaultAuth ${namespace}/own-role: spec.mount: is not set, and VaultAuthGlobal ${namespace}/mount-only sets neither spec.kubernetes.mount nor spec.defaultMount`,
    );
  });
});
