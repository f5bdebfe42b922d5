// Starts the operator: the shared parts (Vault clients, MAC key, events, restarts), then one informer and
// one work queue per row of the kind table (api/kind-table.ts, kinds.ts), and the destination Secret watch.
// `startOperator` is what the CLI and the tests run.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import { KubeConfigError, loadOrCreateSecretKey, type Logger, type MetricsRegistry } from '@vaultbridge/core';
import { servedKinds, type KindName } from './api/kind-table.ts';
import { OUR_API, VSO_API } from './api/common.ts';
import { refuseWhileVsoRuns } from './guards/vso-running.ts';
import { UnsupportedVsoObjects } from './guards/vso-unsupported-objects.ts';
import { loadVsoMacKey, locateVsoMacKey } from './sync/vso-mac-key.ts';
import { reportRestartOutcome } from './controllers/shared.ts';
import { TokenStorage } from './controllers/token-storage.ts';
import { VaultClientFactory } from './controllers/vault-clients.ts';
import { discoverApiAudiences } from './guards/api-audiences.ts';
import { VaultAddressPolicy } from './guards/vault-address.ts';
import { KIND_WIRING, type KindStores, type OperatorParts, type WatchedObject } from './kinds.ts';
import { EventRecorder } from './runtime/events.ts';
import { RestartingInformer } from './runtime/informer.ts';
import { CustomApi } from './runtime/kube-api.ts';
import { KubeJson } from './runtime/kube-json.ts';
import { LatestObjects } from './runtime/latest-objects.ts';
import { WorkQueue } from './runtime/queue.ts';
import { MANAGED_SELECTOR, toCachedSecret, type CachedSecret } from './sync/destination.ts';
import { newMacKey } from './sync/hmac.ts';
import { InstantUpdates } from './sync/instant-updates.ts';
import { OwnWrites } from './sync/own-writes.ts';
import { RestartBatcher } from './workloads/restart-batcher.ts';

export interface OperatorOptions {
  /** The API server: a client the caller holds (the CLI: in a pod, the service account's; it stays open), */
  kube?: KubeJson;
  /** or a kubeconfig the caller loaded (tests, benchmarks), over which a client is made and closed on stop. */
  kubeConfig?: KubeConfig;
  logger: Logger;
  /** Where an empty vaultAuthRef / vaultConnectionRef points (`default` there). */
  operatorNamespace: string;
  /** Objects of each kind reconciled at once. Default 100, as VSO. */
  concurrency?: number;
  metrics?: MetricsRegistry;
  /** Failure backoff of one object. Defaults 1 s doubling to 60 s, full jitter, never under 100 ms (`minDelayMs`). */
  backoff?: { baseDelayMs: number; maxDelayMs: number; minDelayMs?: number };
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
  /**
   * Serve VSO's API group (`secrets.hashicorp.com/v1beta1`) instead of ours, for a cluster migrating away
   * from VSO. Refused (VsoStillRunningError) while VSO's controller runs. Default false.
   */
  serveVsoApiGroup?: boolean;
  /**
   * VSO group mode: VSO's HMAC key Secret (`[namespace/]name`), so VaultDynamicSecrets VSO synced are
   * taken over without new credentials. Default: the one Secret with VSO's labels for it.
   */
  vsoHmacKeySecret?: string;
}

export interface RunningOperator {
  /** True once both informers have listed. */
  readonly ready: () => boolean;
  /**
   * Resolves once every object the informers listed at start was reconciled once (every work queue
   * drained): the first sync is done. The CLI turns V8's Maglev compiler on then (cli.ts).
   */
  readonly initialSync: Promise<void>;
  stop(): Promise<void>;
}

const keyOf = (namespace: string | undefined, name: string | undefined): string => `${namespace}/${name}`;

function interestingChange(previous: WatchedObject | undefined, next: WatchedObject): boolean {
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
  const api = options.serveVsoApiGroup ? VSO_API : OUR_API;
  const table = servedKinds(api);
  // Every API call goes through one KubeJson: shared keep-alive connections, a deadline on every call
  // (KubeHttp's 30 s): a hung API server must not hold a reconcile slot for ever.
  const ownKube = options.kube === undefined;
  if (!options.kube && !options.kubeConfig)
    throw new KubeConfigError('startOperator needs kube (a KubeJson) or kubeConfig');
  const kube = options.kube ?? KubeJson.fromKubeConfig(options.kubeConfig!);
  const custom = new CustomApi(kube);
  // Two operators on the same objects would fight over every Secret: VSO must be gone first.
  let vsoMacKey: Buffer | undefined;
  if (options.serveVsoApiGroup) {
    await refuseWhileVsoRuns(kube);
    logger.info({ group: api.group }, "serving VSO's API group");
    const where = await locateVsoMacKey(kube, options.vsoHmacKeySecret, options.operatorNamespace, logger);
    vsoMacKey = where && (await loadVsoMacKey(kube, where, logger));
  }
  let macKey: Buffer;
  const macKeySecret = options.macKeySecretName ?? 'vaultbridge-operator-hmac-key';
  try {
    macKey = await loadOrCreateSecretKey(kube.http, options.operatorNamespace, macKeySecret, {
      bytes: 32,
      managedBy: 'vaultbridge-operator',
      logger,
    });
  } catch (error) {
    // Syncing matters more than stable MACs: a per-process key costs one extra write per secret after a restart.
    logger.warn(
      { err: error, secret: `${options.operatorNamespace}/${macKeySecret}` },
      'cannot read or create the MAC key Secret; using a per-process key',
    );
    macKey = newMacKey();
  }
  const addressPolicy = new VaultAddressPolicy(options.allowedVaultAddresses ?? []);
  if (addressPolicy.unrestricted)
    logger.warn('no Vault address allow-list: VaultConnections may point anywhere (set --allowed-vault-addresses)');
  let apiAudiences: Promise<ReadonlySet<string>> | undefined;
  // One store per kind, filled by its informer (below) and by the answers to our writes; reconciles and
  // the client factory read objects from here instead of the API server.
  const stores = Object.fromEntries(
    table.map(({ kind }) => [kind, new LatestObjects<WatchedObject>()]),
  ) as unknown as KindStores;
  // VaultAuths with spec.storageEncryption keep their tokens (transit-encrypted) across restarts.
  const tokenStorage = new TokenStorage({ kube, namespace: options.operatorNamespace, logger });
  const clients = new VaultClientFactory({
    kube,
    operatorNamespace: options.operatorNamespace,
    logger,
    storage: tokenStorage,
    cached: {
      VaultAuth: (key) => stores.VaultAuth.peek(key),
      VaultConnection: (key) => stores.VaultConnection.peek(key),
      VaultAuthGlobal: (key) => stores.VaultAuthGlobal.peek(key),
    },
    addressPolicy,
    api,
    // Looked up once, when the first VaultAuth needs it.
    apiAudiences: () => (apiAudiences ??= discoverApiAudiences(kube, logger)),
  });
  const events = new EventRecorder(kube, 'vaultbridge-operator', logger);
  const restartsTotal = options.metrics?.counter({
    name: 'vaultbridge_operator_rollout_restarts_total',
    help: 'Workloads patched for a rollout restart (one per batch, however many objects asked).',
  });
  const restarts = new RestartBatcher({
    kube,
    windowMs: options.restartBatchWindowMs ?? 1000,
    onRestart: () => restartsTotal?.inc(),
    onOutcome: (outcome) =>
      reportRestartOutcome(custom, events, outcome, api).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not report a rollout restart'),
      ),
  });
  // Our own Secret writes come back through the destination watch; these fingerprints tell them from drift.
  const ownWrites = new OwnWrites(macKey);
  // Objects with spec.syncConfig.instantUpdates sync on Vault's KV events; the queues are made below.
  const instantUpdates = new InstantUpdates({
    logger,
    sync: (key) => watches.get('VaultStaticSecret')?.queue.add(key),
    connectionChanged: (key) => watches.get('VaultConnection')?.queue.add(key),
  });
  const queueOptions = {
    concurrency: options.concurrency ?? 100,
    baseDelayMs: options.backoff?.baseDelayMs ?? 1000,
    maxDelayMs: options.backoff?.maxDelayMs ?? 60_000,
    ...(options.backoff?.minDelayMs === undefined ? {} : { minDelayMs: options.backoff.minDelayMs }),
  };
  const parts: OperatorParts = {
    kube,
    logger,
    clients,
    macKey,
    events,
    restarts,
    ownWrites,
    instantUpdates,
    stores,
    api,
    operatorNamespace: options.operatorNamespace,
    ...(vsoMacKey ? { vsoMacKey } : {}),
    requeue: (kind, key) => watches.get(kind)?.queue.add(key),
    // Every controller reads from the informers' caches: its object, the destination Secrets we manage
    // (the destination watch is made below; reconciles only run once it exists) and SecretTransformations.
    destinations: { get: (namespace, name) => destinations.get(name, namespace), synced: () => destinations.hasSynced },
    transformations: (namespace, name) => stores.SecretTransformation.get(`${namespace}/${name}`),
    ...(options.runtimePodUid ? { runtimePodUid: options.runtimePodUid } : {}),
  };
  // The informers' lists and watches: one socket per watch, kept apart from the writes' pool.
  const watchHttp = kube.http.withPool({ maxSockets: table.length + 1, maxFreeSockets: table.length + 1 });
  // One informer and one work queue per row of the kind table, run by the row's controller.
  const watchKind = (definition: (typeof table)[number]) => {
    const { kind, group, version, plural } = definition;
    const wiring = KIND_WIRING[kind];
    const counter = wiring.metric && options.metrics?.counter({ ...wiring.metric, labelNames: ['result'] as const });
    const controller = wiring.controller(parts, (result) => counter?.inc({ result }));
    const queue = new WorkQueue({
      ...queueOptions,
      handler: (key) => controller.reconcile(key),
      onError: (key, error) => logger.error({ key, kind, err: error }, 'reconcile threw'),
    });
    // The newest version seen (informer or our own writes): updates are compared with it, and reconciles read it.
    const seen = stores[kind] as LatestObjects<WatchedObject>;
    const informer = new RestartingInformer<WatchedObject>({
      kube: watchHttp,
      logger,
      path: `/apis/${group}/${version}/${plural}`,
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
        wiring.onDeleted?.(parts, key);
      },
    });
    return { definition, kind, queue, seen, informer };
  };
  const watchList = table.map(watchKind);
  const watches = new Map<KindName, (typeof watchList)[number]>(watchList.map((watch) => [watch.kind, watch]));
  // Kinds that write destination Secrets: the destination watch below repairs drift for them.
  const synced = watchList.filter((watch) => watch.definition.role === 'synced');

  // Drift: destination Secrets we manage (label-filtered, never every Secret in the cluster). A change
  // whose data no longer matches the owner's MAC, or a deletion, requeues the owner; Vault is not polled for it.
  const ownerOf = (secret: CachedSecret): { key: string; watch: (typeof watchList)[number] } | undefined => {
    for (const watch of synced) {
      const apiVersion = `${watch.definition.group}/${watch.definition.version}`;
      const ref = secret.metadata?.ownerReferences?.find(
        (owner) => owner.apiVersion === apiVersion && owner.kind === watch.kind,
      );
      if (ref) return { key: keyOf(secret.metadata?.namespace, ref.name), watch };
    }
    return undefined;
  };
  // The cache keeps each Secret's data MAC, not its data (CachedSecret): drift is a MAC comparison.
  const destinations = new RestartingInformer<CachedSecret, V1Secret>({
    kube: watchHttp,
    logger,
    path: '/api/v1/secrets',
    labelSelector: MANAGED_SELECTOR,
    transform: (secret) => toCachedSecret(macKey, secret),
    onUpdate: (secret) => {
      const owner = ownerOf(secret);
      if (!owner) return;
      const dataMac = secret.dataMac;
      // Our own write (its status MAC may not be written yet): nothing to repair, no second Vault read.
      if (ownWrites.isOwn(secret, dataMac)) return;
      const mac = owner.watch.seen.peek(owner.key)?.status?.secretMAC;
      if (mac && mac === dataMac) return;
      logger.info(
        { key: owner.key, kind: owner.watch.kind, secretName: secret.metadata?.name },
        'destination secret changed; repairing',
      );
      owner.watch.queue.add(owner.key);
    },
    onDelete: (secret) => {
      ownWrites.forget(secret.metadata?.namespace, secret.metadata?.name);
      const owner = ownerOf(secret);
      if (!owner) return;
      logger.info(
        { key: owner.key, kind: owner.watch.kind, secretName: secret.metadata?.name },
        'destination secret deleted; repairing',
      );
      owner.watch.queue.add(owner.key);
    },
  });

  await Promise.all([...watchList.map((w) => w.informer.start()), destinations.start()]);
  // VSO group mode: VSO's kinds that cannot work here are left alone and said so on each object.
  const unsupported = options.serveVsoApiGroup ? new UnsupportedVsoObjects(kube, api, events, logger) : undefined;
  unsupported?.start();
  logger.info({ operatorNamespace: options.operatorNamespace, group: api.group }, 'operator started');
  // The informers' first lists have queued every object: the first sync is done once all queues drain.
  const initialSync = Promise.all(watchList.map((w) => w.queue.idle())).then(() => undefined);

  return {
    ready: () => watchList.every((w) => w.informer.hasSynced) && destinations.hasSynced,
    initialSync,
    async stop() {
      unsupported?.stop();
      await Promise.allSettled(watchList.map((w) => w.informer.stop()).concat(destinations.stop()));
      await Promise.all(watchList.map((w) => w.queue.stop()));
      instantUpdates.stop();
      // Restarts already scheduled still happen: the secrets they follow are written.
      await restarts.flushNow();
      await clients.stop();
      watchHttp.close();
      if (ownKube) kube.close();
      logger.info('operator stopped');
    },
  };
}
