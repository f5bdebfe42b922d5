// Status for VaultConnection and VaultAuth, so "why does my secret not sync" is answered on the object
// it is about: a VaultConnection says whether Vault answers (`sys/health`), a VaultAuth whether its
// login works (a TokenRequest for its service account, then the Vault login). Checked on every change
// and again every few minutes; failures back off. Neither ever touches a Secret.
import { CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import { vaultHealth, VaultError, type Logger } from '@vaultbridge/core';
import { OUR_API, type ApiGroup, type Condition } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import { failedConditions, sameConditions, setConditions, type ConditionInput } from '../runtime/conditions.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import { isConflict, isNotFound } from '@vaultbridge/core';
import { recordFailureOnce } from './shared.ts';
import { toReconcileError } from '../runtime/reconcile-error.ts';
import type { VaultClientFactory } from './vault-clients.ts';
import type { InstantUpdates } from '../sync/instant-updates.ts';
import type { LatestObjects } from '../runtime/latest-objects.ts';

/** Healthy objects are checked again this often (jittered). */
export const STATUS_RECHECK_MS = 5 * 60_000;

export interface StatusObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string; generation?: number; resourceVersion?: string };
  status?: { valid?: boolean; error?: string; conditions?: Condition[] };
}

export interface StatusControllerOptions {
  kube: KubeJson;
  logger: Logger;
  clients: VaultClientFactory;
  events?: EventRecorder;
  /** Its `InstantUpdates` condition is shown on VaultConnections. */
  instantUpdates?: InstantUpdates;
  /** The informer's objects (and our writes' answers): read instead of a GET per check. */
  objects?: LatestObjects<StatusObject>;
  /** The API group served (VSO group mode: VSO's); ours when absent. */
  api?: ApiGroup;
}

type Kind = 'VaultConnection' | 'VaultAuth';

export class ConnectionStatusController {
  private readonly custom: CustomApi;
  private readonly options: StatusControllerOptions;
  private readonly kind: Kind;
  private readonly api: ApiGroup;

  constructor(kind: Kind, options: StatusControllerOptions) {
    this.kind = kind;
    this.api = options.api ?? OUR_API;
    this.options = options;
    this.custom = new CustomApi(options.kube);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const plural = kinds[this.kind].plural;
    let object = this.options.objects?.get(key);
    if (object === undefined)
      try {
        object = (await this.custom.getNamespacedCustomObject({
          group: this.api.group,
          version: this.api.version,
          namespace,
          plural,
          name,
        })) as StatusObject;
      } catch (error) {
        if (isNotFound(error)) return {};
        throw error;
      }
    const generation = object.metadata.generation ?? 0;
    try {
      const message =
        this.kind === 'VaultConnection'
          ? await this.checkConnection(namespace, name)
          : await this.checkAuth(namespace, name);
      const conditionType = this.kind === 'VaultConnection' ? 'VaultPing' : 'VaultLogin';
      const written = await this.writeStatus(
        object,
        true,
        '',
        [
          { type: conditionType, status: 'True', reason: 'Succeeded', message, observedGeneration: generation },
          { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
          { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
        ],
        this.instantUpdatesCondition(key, generation),
      );
      // A conflict: the object moved on since it was cached; check again on the new version.
      if (!written) return { requeueAfterMs: 200 };
      return { requeueAfterMs: Math.round(STATUS_RECHECK_MS * (0.9 + 0.1 * Math.random())) };
    } catch (error) {
      const failure = toReconcileError(error);
      this.options.logger.warn(
        { kind: this.kind, namespace, name, reason: failure.reason, detail: failure.message },
        'status check failed',
      );
      await recordFailureOnce(this.options.events, object, failure);
      const conditionType = this.kind === 'VaultConnection' ? 'VaultPing' : 'VaultLogin';
      await this.writeStatus(
        object,
        false,
        failure.reason,
        failedConditions([conditionType, 'Healthy', 'Ready'], failure, generation),
        this.instantUpdatesCondition(key, generation),
      ).catch((statusError: unknown) =>
        this.options.logger.warn({ err: statusError }, 'could not write the failure status'),
      );
      return { backoff: true };
    }
  }

  /** `GET sys/health`, answered by an active node or a standby. */
  private async checkConnection(namespace: string, name: string): Promise<string> {
    const client = await this.options.clients.connectionClient({ namespace, name });
    const health = await vaultHealth(client);
    if (health.sealed) throw new VaultError('Vault is sealed');
    return `Vault answers${health.version ? ` (version ${health.version})` : ''}`;
  }

  /** A login as the VaultAuth's service account in its own namespace, through the shared client cache. */
  private async checkAuth(namespace: string, name: string): Promise<string> {
    const { manager, role } = await this.options.clients.get(`${namespace}/${name}`, namespace);
    await manager.token();
    const policies = manager.info?.policies ?? [];
    return `logged in with role "${role}" (policies: ${policies.join(', ') || 'none'})`;
  }

  /** VaultConnections only: whether objects through it get instant updates, or poll and why. */
  private instantUpdatesCondition(key: string, generation: number): ConditionInput | null | undefined {
    if (this.kind !== 'VaultConnection' || !this.options.instantUpdates) return undefined;
    // null: no object asks for instant updates through this connection (any old condition goes).
    return this.options.instantUpdates.connectionCondition(key, generation) ?? null;
  }

  /** Writes the status when it changed; false on a conflict (the object moved on). */
  private async writeStatus(
    object: StatusObject,
    valid: boolean,
    error: string,
    conditions: ConditionInput[],
    instant?: ConditionInput | null,
  ): Promise<boolean> {
    const before = object.status ?? {};
    let merged = setConditions(before.conditions, instant ? [...conditions, instant] : conditions);
    if (instant === null) merged = merged.filter((condition) => condition.type !== 'InstantUpdates');
    const next = { ...before, valid, ...(this.kind === 'VaultAuth' ? { error } : {}), conditions: merged };
    if (
      before.valid === next.valid &&
      before.error === (next as { error?: string }).error &&
      sameConditions(before.conditions, next.conditions)
    )
      return true;
    try {
      const updated = (await this.custom.replaceNamespacedCustomObjectStatus({
        group: this.api.group,
        version: this.api.version,
        namespace: object.metadata.namespace,
        plural: kinds[this.kind].plural,
        name: object.metadata.name,
        body: { ...object, status: next },
      })) as StatusObject;
      // A check soon after (an instant-updates change) must build on this status, not the informer's older copy.
      this.options.objects?.written(`${object.metadata.namespace}/${object.metadata.name}`, updated);
      return true;
    } catch (statusError) {
      if (isConflict(statusError)) return false;
      if (isNotFound(statusError)) return true;
      throw statusError;
    }
  }
}
