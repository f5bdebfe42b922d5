// VaultStaticSecret reconcile, in VSO's order: get → deletion → client → validate → read Vault →
// sync the destination → status → requeue with jitter.
import { CoreApi, CustomApi } from '../runtime/kube-api.ts';
import {
  KvSecrets,
  VaultNotFoundError,
  VaultPermissionError,
  VaultSecretVersionError,
  type Logger,
} from '@vaultbridge/core';
import { apiVersionOf, OUR_API, type ApiGroup } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import {
  parseVaultStaticSecretSpec,
  type VaultStaticSecret,
  type VaultStaticSecretSpec,
  type VaultStaticSecretStatus,
} from '../api/vault-static-secret.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import { sameConditions, setConditions, type ConditionInput } from '../runtime/conditions.ts';
import {
  planWrite,
  SecretDataError,
  transformSecretData,
  type ExistingSecret,
  type Owner,
  type WritePlan,
} from '../sync/destination.ts';
import type { LatestObjects } from '../runtime/latest-objects.ts';
import { KubeJson } from '../runtime/kube-json.ts';
import { secretMac } from '../sync/hmac.ts';
import type { OwnWrites } from '../sync/own-writes.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { RestartBatcher } from '../workloads/restart-batcher.ts';
import { isConflict, isNotFound } from '@vaultbridge/core';
import {
  failReconcile,
  getSyncedObject,
  parseSpec,
  readSecretIfExists,
  restartOrSchedule,
  writeDestination,
  type DestinationCache,
} from './shared.ts';
import type { SecretTransformation } from '../api/secret-transformation.ts';
import { resolveTransformationRefs } from '../sync/transformation-refs.ts';
import { ReconcileError } from '../runtime/reconcile-error.ts';
import { tokenId, type VaultClientFactory } from './vault-clients.ts';
import type { InstantUpdates, WatchTarget } from '../sync/instant-updates.ts';

/** Failures a KV event can end (the secret or version appears): objects failing so stay followed. */
const WAITING_FOR_VAULT_DATA = new Set(['VaultSecretNotFound', 'VaultSecretVersionGone', 'VaultSecretEmpty']);

/** Refresh when hmacSecretData is on and refreshAfter unset, as VSO does. */
export const DEFAULT_REFRESH_MS = 60_000;

/** VSO's computeHorizonWithJitter: d − 0.1d − random[0, 0.1d), i.e. in (0.8d, 0.9d]. */
export function horizonWithJitter(durationMs: number, random: () => number = Math.random): number {
  return Math.round(durationMs * 0.9 - random() * durationMs * 0.1);
}

export interface StaticSecretControllerOptions {
  kube: KubeJson;
  logger: Logger;
  clients: VaultClientFactory;
  macKey: Buffer;
  /** Events on the VaultStaticSecret; none when absent (unit tests). */
  events?: EventRecorder;
  /** Batches rollout restarts across objects; without it they run at once. */
  restarts?: RestartBatcher;
  /** Fingerprints of our own writes, shared with the destination watch. */
  ownWrites?: OwnWrites;
  /** The informer's objects (and our writes' answers): read instead of a GET per reconcile. */
  objects?: LatestObjects<VaultStaticSecret>;
  /**
   * The destination watch's cache (Secrets we manage). `synced` says it has listed, so a Secret it does
   * not hold is not one of ours: a create then needs no GET first (a 409 still re-reads and re-plans).
   */
  destinations?: DestinationCache;
  /** The SecretTransformation informer's objects, for transformationRefs. */
  transformations?: (namespace: string, name: string) => SecretTransformation | undefined;
  onResult?: (result: 'synced' | 'unchanged' | 'error') => void;
  /** Follows Vault's KV events for objects with spec.syncConfig.instantUpdates; off when absent. */
  instantUpdates?: InstantUpdates;
  /** The API group served (VSO group mode: VSO's); ours when absent. */
  api?: ApiGroup;
}

export class StaticSecretController {
  private readonly custom: CustomApi;
  private readonly core: CoreApi;
  private readonly options: StaticSecretControllerOptions;
  private readonly json: KubeJson;
  private readonly api: ApiGroup;

  constructor(options: StaticSecretControllerOptions) {
    this.options = options;
    this.custom = new CustomApi(options.kube);
    this.core = new CoreApi(options.kube);
    this.json = options.kube;
    this.api = options.api ?? OUR_API;
  }

  /** `key` is `namespace/name`. Never throws for a bad object: the failure goes to its status. */
  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    // Made on first use: a pino child per reconcile cost measurable CPU at 1,000 objects, and most reconciles log nothing.
    let child: Logger | undefined;
    const logger = (): Logger => (child ??= this.options.logger.child({ kind: 'VaultStaticSecret', namespace, name }));

    // 1. Get.
    // peek, not get: this reconcile never changes the object it reads (it builds new status objects), so no copy.
    const object =
      this.options.objects?.peek(key) ??
      (await getSyncedObject<VaultStaticSecret>(
        this.custom,
        kinds.VaultStaticSecret.plural,
        namespace,
        name,
        this.api,
      ));
    if (object === undefined || object.metadata.deletionTimestamp) {
      this.options.instantUpdates?.unwatch(key);
      return {};
    }
    // 2. Deletion: no finalizer, the destination is owned through ownerReferences and GC removes it.

    const generation = object.metadata.generation ?? 0;
    let watchTarget: WatchTarget | undefined;
    try {
      // 3. Validate the spec at the edge.
      const spec = parseSpec(parseVaultStaticSecretSpec, object.spec, { allowNamespace: true });
      spec.destination.transformation = await resolveTransformationRefs(
        this.custom,
        namespace,
        spec.destination.transformation,
        this.options.transformations,
        this.api,
      );

      // 4. Client (shared per VaultAuth and service account).
      const { manager, role, cacheKey, connectionRef } = await this.options.clients.get(spec.vaultAuthRef, namespace);
      // What instant updates follow for this object: its path, in its Vault namespace, at its pinned version.
      if (spec.instantUpdates) {
        watchTarget = {
          identity: cacheKey,
          manager,
          connectionKey: `${connectionRef.namespace}/${connectionRef.name}`,
          mount: spec.mount,
          path: spec.path,
          ...(spec.namespace ? { namespace: spec.namespace } : {}),
          ...(spec.version ? { version: spec.version } : {}),
        };
      }

      // 5. Read Vault (in spec.namespace when set: sent as X-Vault-Namespace instead of the VaultAuth's, as VSO).
      const data = await this.readVault(manager.client.withNamespace(spec.namespace), spec, role, object);

      // 6. Sync the destination.
      const owner: Owner = {
        apiVersion: apiVersionOf(this.api),
        kind: 'VaultStaticSecret',
        name,
        uid: object.metadata.uid,
      };
      // One MAC of the data, for status and for recognising our own write in the watch.
      const dataMac = secretMac(this.options.macKey, data);
      const plan = await this.syncDestination(spec, namespace, owner, data, dataMac);
      if (plan.action !== 'none') {
        if (this.options.logger.isLevelEnabled('info'))
          logger().info({ secretName: spec.destination.name, action: plan.action }, 'destination secret written');
        // Not awaited: recording never fails the reconcile, and the slot is free for the next object sooner.
        void this.options.events?.record(
          object,
          'Normal',
          'SecretSynced',
          `Secret ${spec.destination.name} ${plan.action === 'create' ? 'created' : 'updated'} from ${spec.mount}/${spec.path}`,
        );
      }
      this.options.onResult?.(plan.action === 'none' ? 'unchanged' : 'synced');
      const mac = spec.hmacSecretData ? dataMac : undefined;
      const restart = await this.restartIfChanged(object, spec, mac, generation);

      // 7. Status.
      const refreshMs = spec.refreshAfterMs ?? (spec.hmacSecretData ? DEFAULT_REFRESH_MS : undefined);
      const message = plan.action === 'none' ? 'Secret in sync' : 'Secret synced';
      const clientId = tokenId(manager);
      const status: VaultStaticSecretStatus = {
        ...object.status,
        lastGeneration: generation,
        vaultClientMeta: { cacheKey, ...(clientId === undefined ? {} : { id: clientId }) },
        conditions: setConditions(object.status?.conditions, [
          {
            type: 'SecretSynced',
            status: 'True',
            reason: 'Synced',
            message: 'Secret synced',
            observedGeneration: generation,
          },
          { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
          { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
          ...(restart === undefined ? [] : [restart]),
        ]),
      };
      if (mac !== undefined) status.secretMAC = mac;
      else delete status.secretMAC;
      const conflict = await this.writeStatus(object, status);
      if (conflict) return { requeueAfterMs: 200 };

      // 8. Follow the path's KV events (one subscription per client identity and namespace), or stop following it.
      if (watchTarget) this.options.instantUpdates?.watch(key, watchTarget);
      else this.options.instantUpdates?.unwatch(key);

      // 9. Requeue: refreshAfter stays the safety net with instant updates on.
      return refreshMs === undefined ? {} : { requeueAfterMs: horizonWithJitter(refreshMs) };
    } catch (error) {
      this.options.onResult?.('error');
      // The secret or the pinned version is not there (yet, or any more): the write, undelete or
      // metadata change that brings it back is an event, so keep following the path to sync at once.
      if (watchTarget && error instanceof ReconcileError && WAITING_FOR_VAULT_DATA.has(error.reason))
        this.options.instantUpdates?.watch(key, watchTarget);
      return failReconcile({ events: this.options.events, logger: logger() }, object, error, (o, status) =>
        this.writeStatus(o, status),
      );
    }
  }

  /**
   * Plans and writes the destination. The Secret comes from the watch's cache when it is ours; a stale
   * cache shows as a 409 (the Secret moved on, or exists after all), answered by one fresh read and a
   * new plan, so a conflict is never reported as a failure.
   */
  private async syncDestination(
    spec: VaultStaticSecretSpec,
    namespace: string,
    owner: Owner,
    data: Record<string, string>,
    dataMac: string,
  ): Promise<WritePlan> {
    const name = spec.destination.name;
    const cache = this.options.destinations;
    // `create: false` is read whole: its update sends the user's metadata back, which the cache does not keep.
    const cached = spec.destination.create ? cache?.get(namespace, name) : undefined;
    const assumeAbsent = cached === undefined && spec.destination.create && cache?.synced() === true;
    let existing: ExistingSecret | undefined =
      cached ?? (assumeAbsent ? undefined : await readSecretIfExists(this.core, namespace, name));
    for (let attempt = 0; ; attempt++) {
      const plan = planWrite(spec.destination, namespace, owner, data, existing, dataMac);
      if (plan.action === 'refuse') throw new ReconcileError(plan.reason, plan.message);
      try {
        await writeDestination(this.core, namespace, name, plan, this.options.ownWrites, dataMac, this.json);
        return plan;
      } catch (error) {
        if (!isConflict(error) || attempt > 0) throw error;
        existing = await readSecretIfExists(this.core, namespace, name);
      }
    }
  }

  /**
   * Rollout restarts when the Vault data changed since the last sync, told by the MAC in status (so not
   * on the first sync, not when drift repair only restores the Secret, and not on every refresh: VSO
   * #582, #1124). Returns the RolloutRestart condition, or undefined when there is nothing to say.
   */
  private async restartIfChanged(
    object: VaultStaticSecret,
    spec: VaultStaticSecretSpec,
    mac: string | undefined,
    generation: number,
  ): Promise<ConditionInput | undefined> {
    const targets = spec.rolloutRestartTargets;
    if (targets.length === 0) return undefined;
    if (mac === undefined) {
      return {
        type: 'RolloutRestart',
        status: 'False',
        reason: 'RolloutRestartNeedsHMAC',
        observedGeneration: generation,
        message:
          'spec.rolloutRestartTargets needs spec.hmacSecretData: true, which tells a change of the Vault data apart from a refresh',
      };
    }
    const previous = object.status?.secretMAC;
    if (previous === undefined || previous === mac) return undefined;
    this.options.logger.info(
      {
        kind: 'VaultStaticSecret',
        namespace: object.metadata.namespace,
        name: object.metadata.name,
        targets: targets.length,
      },
      'rollout restart after the Vault data changed',
    );
    return restartOrSchedule(this.options, object, targets, generation);
  }

  private async readVault(
    client: KvSecrets['client'],
    spec: VaultStaticSecretSpec,
    role: string,
    object: VaultStaticSecret,
  ): Promise<Record<string, string>> {
    const kv = new KvSecrets(client);
    const secret = await kv
      .read<Record<string, unknown>>(spec.path, {
        mount: spec.mount,
        kvVersion: spec.type === 'kv-v2' ? 2 : 1,
        ...(spec.version ? { version: spec.version } : {}),
      })
      .catch((error: unknown) => {
        throw vaultReadError(error, spec, role);
      });
    if (secret.data === null || typeof secret.data !== 'object') {
      throw new ReconcileError(
        'VaultSecretEmpty',
        `Vault returned no data at ${spec.mount}/${spec.path} (spec.mount, spec.path)`,
      );
    }
    // As Vault answered (KV v2: `{data, metadata}`), so `_raw` has VSO's bytes, number literals included.
    const raw = secret.raw;
    try {
      return transformSecretData(secret.data, raw, spec.destination.transformation, {
        metadata: spec.type === 'kv-v2' ? (raw as { metadata?: unknown }).metadata : undefined,
        annotations: object.metadata.annotations,
        labels: object.metadata.labels,
      });
    } catch (error) {
      if (error instanceof SecretDataError)
        throw new ReconcileError('SecretDataError', `${spec.mount}/${spec.path}: ${error.message}`);
      throw error;
    }
  }

  /** Writes status only when it changed. Returns true on a conflict (the object moved on; requeue). */
  private async writeStatus(object: VaultStaticSecret, status: VaultStaticSecretStatus): Promise<boolean> {
    const before = object.status ?? {};
    if (
      before.lastGeneration === status.lastGeneration &&
      before.secretMAC === status.secretMAC &&
      sameConditions(before.conditions, status.conditions) &&
      JSON.stringify(before.vaultClientMeta) === JSON.stringify(status.vaultClientMeta)
    )
      return false;
    try {
      const updated = await this.json.replaceStatus<VaultStaticSecret>(
        this.api.group,
        this.api.version,
        kinds.VaultStaticSecret.plural,
        object.metadata.namespace,
        object.metadata.name,
        { ...object, status },
      );
      // The next reconcile must see this status (its MAC decides restarts), even before the watch delivers it.
      this.options.objects?.written(`${object.metadata.namespace}/${object.metadata.name}`, updated);
      return false;
    } catch (error) {
      if (isConflict(error)) return true;
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

function vaultReadError(error: unknown, spec: VaultStaticSecretSpec, role: string): unknown {
  const where = `${spec.mount}/${spec.path} (spec.mount, spec.path)`;
  if (error instanceof VaultPermissionError)
    return new ReconcileError(
      'VaultPermissionDenied',
      `Vault denied reading ${where} (403): the policies of Vault role "${role}" must allow read on it`,
    );
  if (error instanceof VaultNotFoundError)
    return new ReconcileError(
      'VaultSecretNotFound',
      `no secret at ${where}${spec.version ? ` version ${spec.version} (spec.version)` : ''}`,
    );
  if (error instanceof VaultSecretVersionError)
    return new ReconcileError('VaultSecretVersionGone', `${where}: ${error.message}`);
  return error;
}
