// Wires informers, the queue and the controller. `startOperator` is what the CLI and the tests run.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesListObject, type V1Secret } from '@kubernetes/client-node';
import { loadOrCreateSecretKey, reuseKubeConnections, withKubeRequestDeadline, type Logger, type MetricsRegistry } from '@vaultbridge/core';
import { API_VERSION, GROUP, VERSION } from './api/common.ts';
import { kinds } from './api/crds.ts';
import type { VaultDynamicSecret } from './api/vault-dynamic-secret.ts';
import type { VaultStaticSecret } from './api/vault-static-secret.ts';
import { DynamicSecretController } from './controllers/dynamic-secret.ts';
import { PkiSecretController } from './controllers/pki-secret.ts';
import { ConnectionStatusController, type StatusObject } from './controllers/connection-status.ts';
import type { SecretTransformation } from './api/secret-transformation.ts';
import { TransformationStatusController } from './controllers/transformation-status.ts';
import { reportRestartOutcome } from './controllers/shared.ts';
import { RestartBatcher } from './workloads/restart-batcher.ts';
import type { VaultPkiSecret } from './api/vault-pki-secret.ts';
import { EventRecorder } from './runtime/events.ts';
import { StaticSecretController } from './controllers/static-secret.ts';
import { VaultClientFactory } from './controllers/vault-clients.ts';
import { TokenStorage } from './controllers/token-storage.ts';
import { discoverApiAudiences } from './guards/api-audiences.ts';
import { VaultAddressPolicy } from './guards/vault-address.ts';
import { RestartingInformer } from './runtime/informer.ts';
import { WorkQueue, type ReconcileResult } from './runtime/queue.ts';
import { LatestObjects } from './runtime/latest-objects.ts';
import { MANAGED_SELECTOR } from './sync/destination.ts';
import { newMacKey, secretMac } from './sync/hmac.ts';
import { OwnWrites } from './sync/own-writes.ts';
import { InstantUpdates } from './sync/instant-updates.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** Where an empty vaultAuthRef / vaultConnectionRef points (`default` there). */
  operatorNamespace: string;
  /** Objects of each kind reconciled at once. Default 100, as VSO. */
  concurrency?: number;
  metrics?: MetricsRegistry;
  /** Failure backoff of one object. Defaults 1 s doubling to 60 s, full jitter. */
  backoff?: { baseDelayMs: number; maxDelayMs: number };
  /** Rollout restarts asked within this window are one patch per workload. Default 1000 ms. */
  restartBatchWindowMs?: number;
  /** The operator pod's UID (env OPERATOR_POD_UID), shown as VaultDynamicSecret status.lastRuntimePodUID. */
  runtimePodUid?: string;
  /** Secret in the operator namespace holding the MAC key, so MACs survive restarts. Default `vaultbridge-operator-hmac-key`. */
  macKeySecretName?: string;
  /**
   * Vault addresses VaultConnections may name (the cluster admin's allow-list); others are refused with
   * `VaultAddressNotAllowed` before anything is sent. Empty or absent: any address.
   */
  allowedVaultAddresses?: readonly string[];
}

export interface RunningOperator {
  /** True once both informers have listed. */
  readonly ready: () => boolean;
  stop(): Promise<void>;
}

/** Deadline of one Kubernetes API call (watches excepted). */
const KUBE_REQUEST_DEADLINE_MS = 60_000;

const keyOf = (namespace: string | undefined, name: string | undefined): string => `${namespace}/${name}`;

/** What the operator needs of every synced kind. */
interface SyncedObject {
  metadata: { name: string; namespace: string; generation?: number; resourceVersion?: string; deletionTimestamp?: Date; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { secretMAC?: string };
}

function interestingChange(previous: SyncedObject | undefined, next: SyncedObject): boolean {
  // Our own status writes must not wake the object again; spec, labels and annotations changes must.
  if (!previous) return true;
  return (
    previous.metadata.generation !== next.metadata.generation ||
    // Deletion (a finalizer to run) must wake the object even where it does not bump the generation.
    Boolean(previous.metadata.deletionTimestamp) !== Boolean(next.metadata.deletionTimestamp) ||
    JSON.stringify(previous.metadata.labels ?? {}) !== JSON.stringify(next.metadata.labels ?? {}) ||
    JSON.stringify(previous.metadata.annotations ?? {}) !== JSON.stringify(next.metadata.annotations ?? {})
  );
}

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { logger } = options;
  // Every controller's API calls then share connections (client-node opens one per request otherwise).
  // Every API call also gets a deadline: a hung API server must not hold a reconcile slot for ever.
  const kubeConfig = withKubeRequestDeadline(reuseKubeConnections(options.kubeConfig), KUBE_REQUEST_DEADLINE_MS);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let macKey: Buffer;
  const macKeySecret = options.macKeySecretName ?? 'vaultbridge-operator-hmac-key';
  try {
    macKey = await loadOrCreateSecretKey(kubeConfig, options.operatorNamespace, macKeySecret, { bytes: 32, managedBy: 'vaultbridge-operator', logger });
  } catch (error) {
    // Syncing matters more than stable MACs: a per-process key costs one extra write per secret after a restart.
    logger.warn({ err: error, secret: `${options.operatorNamespace}/${macKeySecret}` }, 'cannot read or create the MAC key Secret; using a per-process key');
    macKey = newMacKey();
  }
  const addressPolicy = new VaultAddressPolicy(options.allowedVaultAddresses ?? []);
  if (addressPolicy.unrestricted) logger.warn('no Vault address allow-list: VaultConnections may point anywhere (set --allowed-vault-addresses)');
  let apiAudiences: Promise<ReadonlySet<string>> | undefined;
  // One store per kind, filled by its informer (below) and by the answers to our writes; reconciles and
  // the client factory read objects from here instead of the API server.
  const stores = {
    VaultStaticSecret: new LatestObjects<VaultStaticSecret>(),
    VaultDynamicSecret: new LatestObjects<VaultDynamicSecret>(),
    VaultPKISecret: new LatestObjects<VaultPkiSecret>(),
    VaultConnection: new LatestObjects<SyncedObject>(),
    VaultAuth: new LatestObjects<SyncedObject>(),
    SecretTransformation: new LatestObjects<SyncedObject>(),
  };
  // VaultAuths with spec.storageEncryption keep their tokens (transit-encrypted) across restarts.
  const tokenStorage = new TokenStorage({ kubeConfig, namespace: options.operatorNamespace, logger });
  const clients = new VaultClientFactory({
    kubeConfig, operatorNamespace: options.operatorNamespace, logger, storage: tokenStorage,
    cached: { VaultAuth: (key) => stores.VaultAuth.peek(key), VaultConnection: (key) => stores.VaultConnection.peek(key) },
    addressPolicy,
    // Looked up once, when the first VaultAuth needs it.
    apiAudiences: () => (apiAudiences ??= discoverApiAudiences(kubeConfig, logger)),
  });
  const reconciles = options.metrics?.counter({
    name: 'vaultbridge_operator_reconciles_total',
    help: 'VaultStaticSecret reconciles by result.',
    labelNames: ['result'] as const,
  });
  const dynamicReconciles = options.metrics?.counter({
    name: 'vaultbridge_operator_dynamic_reconciles_total',
    help: 'VaultDynamicSecret reconciles by result (issued, renewed, unchanged, error).',
    labelNames: ['result'] as const,
  });
  const pkiReconciles = options.metrics?.counter({
    name: 'vaultbridge_operator_pki_reconciles_total',
    help: 'VaultPKISecret reconciles by result (issued, unchanged, error).',
    labelNames: ['result'] as const,
  });
  const events = new EventRecorder(kubeConfig, 'vaultbridge-operator', logger);
  const restartsTotal = options.metrics?.counter({ name: 'vaultbridge_operator_rollout_restarts_total', help: 'Workloads patched for a rollout restart (one per batch, however many objects asked).' });
  const restarts = new RestartBatcher({
    kubeConfig,
    windowMs: options.restartBatchWindowMs ?? 1000,
    onRestart: () => restartsTotal?.inc(),
    onOutcome: (outcome) => reportRestartOutcome(custom, events, outcome).catch((error: unknown) => logger.warn({ err: error }, 'could not report a rollout restart')),
  });
  // Our own Secret writes come back through the destination watch; these fingerprints tell them from drift.
  const ownWrites = new OwnWrites(macKey);
  // Objects with spec.syncConfig.instantUpdates sync on Vault's KV events; the queues are made below.
  const instantUpdates = new InstantUpdates({
    logger,
    sync: (key) => watched.find((w) => w.kind === 'VaultStaticSecret')?.queue.add(key),
    connectionChanged: (key) => statusWatches.find((w) => w.kind === 'VaultConnection')?.queue.add(key),
  });
  // Every controller reads from the informers' caches: its object, the destination Secrets we manage
  // (the destination watch is made below; reconciles only run once it exists) and SecretTransformations.
  const caches = {
    destinations: { get: (namespace: string, name: string) => destinations.get(name, namespace), synced: () => destinations.hasSynced },
    transformations: (namespace: string, name: string) => stores.SecretTransformation.get(`${namespace}/${name}`) as SecretTransformation | undefined,
  };
  const staticController = new StaticSecretController({
    kubeConfig, logger, clients, macKey, events, restarts, ownWrites, objects: stores.VaultStaticSecret, instantUpdates, ...caches, onResult: (result) => reconciles?.inc({ result }) });
  const dynamicController = new DynamicSecretController({
    kubeConfig, logger, clients, macKey, events, restarts, ownWrites, objects: stores.VaultDynamicSecret, ...caches,
    ...(options.runtimePodUid ? { runtimePodUid: options.runtimePodUid } : {}), onResult: (result) => dynamicReconciles?.inc({ result }) });
  const pkiController = new PkiSecretController({ kubeConfig, logger, clients, macKey, events, restarts, ownWrites, objects: stores.VaultPKISecret, ...caches, onResult: (result) => pkiReconciles?.inc({ result }) });
  const queueOptions = {
    concurrency: options.concurrency ?? 100,
    baseDelayMs: options.backoff?.baseDelayMs ?? 1000,
    maxDelayMs: options.backoff?.maxDelayMs ?? 60_000,
  };
  const watchKind = <T extends SyncedObject>(
    kind: 'VaultStaticSecret' | 'VaultDynamicSecret' | 'VaultPKISecret' | 'VaultConnection' | 'VaultAuth' | 'SecretTransformation',
    reconcile: (key: string) => Promise<ReconcileResult>,
    onDeleted?: (key: string) => void,
  ) => {
    const queue = new WorkQueue({ ...queueOptions, handler: reconcile, onError: (key, error) => logger.error({ key, kind, err: error }, 'reconcile threw') });
    // The newest version seen (informer or our own writes): updates are compared with it, and reconciles read it.
    const seen = stores[kind] as unknown as LatestObjects<T>;
    const informer = new RestartingInformer<T>({
      kubeConfig,
      logger,
      path: `/apis/${GROUP}/${VERSION}/${kinds[kind].plural}`,
      list: async () => (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: kinds[kind].plural })) as KubernetesListObject<T>,
      onAdd: (object) => {
        const key = keyOf(object.metadata.namespace, object.metadata.name);
        seen.observe(key, object);
        queue.add(key);
      },
      onUpdate: (object) => {
        const key = keyOf(object.metadata.namespace, object.metadata.name);
        const previous = seen.peek(key);
        seen.observe(key, object);
        if (interestingChange(previous, object)) {
          queue.forget(key);
          queue.add(key);
        }
      },
      onDelete: (object) => {
        const key = keyOf(object.metadata.namespace, object.metadata.name);
        seen.delete(key);
        queue.remove(key);
        onDeleted?.(key);
      },
    });
    return { kind, queue, seen, informer };
  };
  const watched = [
    watchKind<VaultStaticSecret>('VaultStaticSecret', (key) => staticController.reconcile(key), (key) => instantUpdates.unwatch(key)),
    watchKind<VaultDynamicSecret>('VaultDynamicSecret', (key) => dynamicController.reconcile(key)),
    watchKind<VaultPkiSecret>('VaultPKISecret', (key) => pkiController.reconcile(key)),
  ];
  // Status of the connection objects (Vault answers? login works?); not owners of Secrets.
  const connectionStatus = new ConnectionStatusController('VaultConnection', { kubeConfig, logger, clients, events, instantUpdates, objects: stores.VaultConnection as unknown as LatestObjects<StatusObject> });
  const authStatus = new ConnectionStatusController('VaultAuth', { kubeConfig, logger, clients, events, objects: stores.VaultAuth as unknown as LatestObjects<StatusObject> });
  const transformationStatus = new TransformationStatusController({ kubeConfig, logger });
  const statusWatches = [
    watchKind<SyncedObject>('VaultConnection', (key) => connectionStatus.reconcile(key)),
    watchKind<SyncedObject>('VaultAuth', (key) => authStatus.reconcile(key), (key) => {
      clients.forgetVaultAuth(key).catch((error: unknown) => logger.warn({ err: error, vaultAuth: key }, 'could not delete the stored tokens of a deleted VaultAuth'));
    }),
    watchKind<SyncedObject>('SecretTransformation', (key) => transformationStatus.reconcile(key)),
  ];

  // Drift: destination Secrets we manage (label-filtered, never every Secret in the cluster). A change
  // whose data no longer matches the owner's MAC, or a deletion, requeues the owner; Vault is not polled for it.
  const ownerOf = (secret: V1Secret): { key: string; watch: (typeof watched)[number] } | undefined => {
    for (const watch of watched) {
      const ref = secret.metadata?.ownerReferences?.find((owner) => owner.apiVersion === API_VERSION && owner.kind === watch.kind);
      if (ref) return { key: keyOf(secret.metadata?.namespace, ref.name), watch };
    }
    return undefined;
  };
  const destinations = new RestartingInformer<V1Secret>({
    kubeConfig,
    logger,
    path: '/api/v1/secrets',
    labelSelector: MANAGED_SELECTOR,
    list: () => core.listSecretForAllNamespaces({ labelSelector: MANAGED_SELECTOR }),
    onUpdate: (secret) => {
      const owner = ownerOf(secret);
      if (!owner) return;
      const dataMac = secretMac(macKey, secret.data ?? {});
      // Our own write (its status MAC may not be written yet): nothing to repair, no second Vault read.
      if (ownWrites.isOwn(secret, dataMac)) return;
      const mac = owner.watch.seen.peek(owner.key)?.status?.secretMAC;
      if (mac && mac === dataMac) return;
      logger.info({ key: owner.key, kind: owner.watch.kind, secretName: secret.metadata?.name }, 'destination secret changed; repairing');
      owner.watch.queue.add(owner.key);
    },
    onDelete: (secret) => {
      ownWrites.forget(secret.metadata?.namespace, secret.metadata?.name);
      const owner = ownerOf(secret);
      if (!owner) return;
      logger.info({ key: owner.key, kind: owner.watch.kind, secretName: secret.metadata?.name }, 'destination secret deleted; repairing');
      owner.watch.queue.add(owner.key);
    },
  });

  await Promise.all([...watched.map((w) => w.informer.start()), ...statusWatches.map((w) => w.informer.start()), destinations.start()]);
  logger.info({ operatorNamespace: options.operatorNamespace }, 'operator started');

  return {
    ready: () => [...watched, ...statusWatches].every((w) => w.informer.hasSynced) && destinations.hasSynced,
    async stop() {
      await Promise.allSettled([...watched, ...statusWatches].map((w) => w.informer.stop()).concat(destinations.stop()));
      await Promise.all([...watched, ...statusWatches].map((w) => w.queue.stop()));
      instantUpdates.stop();
      // Restarts already scheduled still happen: the secrets they follow are written.
      await restarts.flushNow();
      await clients.stop();
      logger.info('operator stopped');
    },
  };
}
