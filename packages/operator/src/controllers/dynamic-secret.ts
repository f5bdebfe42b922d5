// VaultDynamicSecret reconcile: keep leased credentials in a Secret. The lease lives in status, so a
// reconcile is stateless: before the renewal window it only requeues (no Vault call, so an operator
// restart does not mint new credentials for every object); in the window it renews, or re-issues when
// the lease cannot be renewed (not renewable, max TTL reached, revoked). A new secret is also issued
// when the spec changed, the Secret was deleted or edited, or the token that owns the lease is gone.
import type { V1Secret } from '@kubernetes/client-node';
import { CoreApi, CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import {
  readDynamicSecret,
  renewalDelayMs,
  renewLease,
  revokeLease,
  VaultNotFoundError,
  VaultPermissionError,
  writeDynamicSecret,
  type DynamicSecret,
  type Logger,
  type TokenManager,
  type VaultClient,
} from '@vaultbridge/core';
import { apiVersionOf, FORCE_SYNC_ANNOTATION, OUR_API, type ApiGroup } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import {
  parseVaultDynamicSecretSpec,
  type SecretLease,
  type VaultClientMeta,
  type StaticCredsMetaData,
  type VaultDynamicSecret,
  type VaultDynamicSecretSpec,
  type VaultDynamicSecretStatus,
} from '../api/vault-dynamic-secret.ts';
import { sameConditions, setConditions } from '../runtime/conditions.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { RestartBatcher } from '../workloads/restart-batcher.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import {
  existingDataMac,
  isCachedSecret,
  planWrite,
  SecretDataError,
  transformSecretData,
  type ExistingSecret,
  type Owner,
} from '../sync/destination.ts';
import { secretMac } from '../sync/hmac.ts';
import type { OwnWrites } from '../sync/own-writes.ts';
import { isConflict, isNotFound } from '@vaultbridge/core';
import {
  failReconcile,
  forceSyncStatus,
  getSyncedObject,
  parseSpec,
  patchFinalizers,
  readLeasedDestination,
  restartOrSchedule,
  syncFinalizer,
  writeDestination,
  type DestinationCache,
} from './shared.ts';
import type { LatestObjects } from '../runtime/latest-objects.ts';
import type { SecretTransformation } from '../api/secret-transformation.ts';
import { resolveTransformationRefs } from '../sync/transformation-refs.ts';
import { ReconcileError } from '../runtime/reconcile-error.ts';
import { tokenId, type VaultClientFactory } from './vault-clients.ts';

/** Held while `spec.revoke` is on, so the lease is revoked before the object goes. */
export const REVOKE_FINALIZER = 'secrets.vaultbridge.dev/revoke-lease';

/** Why a new secret is issued (VSO's sync reasons, plus drift). */
export type IssueReason =
  | 'InitialSync'
  | 'ResourceUpdated'
  | 'ForceSync'
  | 'InexistentDestination'
  | 'DestinationDrift'
  | 'VaultTokenRotated'
  | 'LeaseNotRenewable'
  | 'LeaseTruncated'
  | 'LeaseRenewalFailed'
  | 'RefreshAfter'
  | 'StaticCredsRotation'
  | 'AdoptedLeaseExpired';

/** Up to this fraction of the renewal point is taken off at random, so leases issued together spread out. */
const JITTER = 0.1;
/** Leases shorter than this are renewed no sooner (a 0 s horizon would spin). */
const MIN_HORIZON_MS = 1000;

export interface DynamicSecretControllerOptions {
  kube: KubeJson;
  logger: Logger;
  clients: VaultClientFactory;
  macKey: Buffer;
  events?: EventRecorder;
  restarts?: RestartBatcher;
  /** Fingerprints of our own writes, shared with the destination watch. */
  ownWrites?: OwnWrites;
  now?: () => number;
  /** The operator pod's UID (OPERATOR_POD_UID), shown as status.lastRuntimePodUID. */
  runtimePodUid?: string;
  onResult?: (result: 'issued' | 'renewed' | 'unchanged' | 'error') => void;
  /** The informer's objects (and our writes' answers): read instead of a GET per reconcile. */
  objects?: LatestObjects<VaultDynamicSecret>;
  /** The destination watch's cache: trusted when it matches the status MAC (see readLeasedDestination). */
  destinations?: DestinationCache;
  /** The SecretTransformation informer's objects, for transformationRefs. */
  transformations?: (namespace: string, name: string) => SecretTransformation | undefined;
  /** The API group served (VSO group mode: VSO's); ours when absent. */
  api?: ApiGroup;
  /**
   * VSO group mode: VSO's HMAC key (sync/vso-mac-key.ts). An object whose status.secretMAC VSO wrote
   * for the Secret as it is now is taken over with its lease instead of re-issued.
   */
  vsoMacKey?: Buffer;
}

/** The earliest moment the lease is renewed: `percent` of its duration after the last issue or renewal, minus the jitter allowance. */
export function renewalWindowStart(lastRenewalSeconds: number, durationSeconds: number, percent: number): number {
  return lastRenewalSeconds * 1000 + durationSeconds * 1000 * (percent / 100) * (1 - JITTER);
}

/**
 * A static database role's answer (`database/static-creds/<role>`): no lease, but the rotation Vault
 * does on its own. VSO's test: a last rotation time and a period or a schedule.
 */
export function staticCredsMetaData(data: Record<string, unknown>): StaticCredsMetaData | undefined {
  const last = typeof data.last_vault_rotation === 'string' ? Date.parse(data.last_vault_rotation) : NaN;
  const rotationPeriod = typeof data.rotation_period === 'number' ? data.rotation_period : 0;
  const rotationSchedule = typeof data.rotation_schedule === 'string' ? data.rotation_schedule : '';
  const ttl = typeof data.ttl === 'number' ? data.ttl : 0;
  if (!(last > 0) || (rotationPeriod < 1 && rotationSchedule === '')) return undefined;
  return { lastVaultRotation: Math.floor(last / 1000), rotationPeriod, rotationSchedule, ttl };
}

/** Read a static role again just after Vault's next rotation (its ttl), with a little jitter. */
function staticRereadDelayMs(ttlSeconds: number): number {
  return Math.max(MIN_HORIZON_MS, ttlSeconds * 1000 + 500 + Math.random() * 150);
}

export class DynamicSecretController {
  private readonly custom: CustomApi;
  private readonly core: CoreApi;
  private readonly options: DynamicSecretControllerOptions;
  private readonly now: () => number;
  private readonly api: ApiGroup;

  constructor(options: DynamicSecretControllerOptions) {
    this.options = options;
    this.custom = new CustomApi(options.kube);
    this.core = new CoreApi(options.kube);
    this.now = options.now ?? Date.now;
    this.api = options.api ?? OUR_API;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const logger = this.options.logger.child({ kind: 'VaultDynamicSecret', namespace, name });
    // A copy (get, not peek): finalizer and status writes below change it in place.
    const object =
      this.options.objects?.get(key) ??
      (await getSyncedObject<VaultDynamicSecret>(
        this.custom,
        kinds.VaultDynamicSecret.plural,
        namespace,
        name,
        this.api,
      ));
    if (object === undefined) return {};
    if (object.metadata.deletionTimestamp) {
      await this.finalize(object, logger);
      return {};
    }

    const generation = object.metadata.generation ?? 0;
    try {
      const spec = parseSpec(parseVaultDynamicSecretSpec, object.spec);
      spec.destination.transformation = await resolveTransformationRefs(
        this.custom,
        namespace,
        spec.destination.transformation,
        this.options.transformations,
        this.api,
      );
      const resourceVersion = object.metadata.resourceVersion;
      await syncFinalizer(
        this.custom,
        kinds.VaultDynamicSecret.plural,
        object,
        REVOKE_FINALIZER,
        spec.revoke,
        this.api,
      );
      if (object.metadata.resourceVersion !== resourceVersion)
        this.options.objects?.written(key, structuredClone(object));

      const { manager, role, cacheKey } = await this.options.clients.get(spec.vaultAuthRef, namespace);
      await manager.token();
      const clientId = tokenId(manager);
      const clientMeta = { cacheKey, ...(clientId === undefined ? {} : { id: clientId }) };
      const status = object.status ?? {};
      const existing = await readLeasedDestination(
        this.core,
        this.options.destinations,
        namespace,
        spec.destination.name,
        status.secretMAC,
        spec.destination.create,
      );

      const fromVso = this.syncedByVso(object, existing);
      if (fromVso !== undefined) {
        const adopted = await this.adopt(object, spec, fromVso, generation, manager, clientMeta, logger);
        if (adopted.ok) return adopted.result;
        return await this.issue(object, spec, existing, adopted.reason, role, generation, manager, clientMeta, logger);
      }
      let reason = this.issueReason(object, spec, existing, clientId);
      if (reason === undefined) {
        const lease = status.secretLease!;
        const last = status.lastRenewalTime ?? 0;
        const staticMeta = spec.allowStaticCreds ? status.staticCredsMetaData : undefined;
        const windowStart =
          staticMeta !== undefined
            ? last * 1000 + staticRereadDelayMs(staticMeta.ttl)
            : lease.duration > 0
              ? renewalWindowStart(last, lease.duration, spec.renewalPercent)
              : spec.refreshAfterMs !== undefined
                ? last * 1000 + spec.refreshAfterMs * (1 - JITTER)
                : undefined;
        // No lease duration and no refreshAfter: the secret does not expire; nothing to do until something changes.
        if (windowStart === undefined) return {};
        const now = this.now();
        if (now < windowStart) {
          this.options.onResult?.('unchanged');
          return { requeueAfterMs: this.wakeUp(windowStart - now, manager) };
        }
        if (staticMeta !== undefined) {
          reason = 'StaticCredsRotation';
        } else if (lease.duration > 0 && lease.renewable && lease.id) {
          const renewed = await this.renew(manager.client, lease, logger);
          if (renewed.ok) return await this.recordRenewal(object, spec, renewed.lease, generation, manager, clientMeta);
          reason = renewed.reason;
          await this.options.events?.record(object, 'Warning', 'SecretLeaseRenewalError', renewed.message);
        } else {
          reason = lease.duration > 0 ? 'LeaseNotRenewable' : 'RefreshAfter';
        }
      }
      return await this.issue(object, spec, existing, reason, role, generation, manager, clientMeta, logger);
    } catch (error) {
      this.options.onResult?.('error');
      return failReconcile({ events: this.options.events, logger }, object, error, (o, status) =>
        this.writeStatus(o, status),
      );
    }
  }

  /**
   * True when VSO synced this object last and nothing changed since: its status.secretMAC is VSO's MAC
   * (VSO's key) of the Secret as it is, for the object's current generation, with a lease in status.
   * Returns that Secret (read whole: a cached summary only comes back when its MAC is ours).
   */
  private syncedByVso(object: VaultDynamicSecret, existing: ExistingSecret | undefined): V1Secret | undefined {
    const { vsoMacKey } = this.options;
    const status = object.status ?? {};
    if (vsoMacKey === undefined || existing === undefined || status.secretMAC === undefined) return undefined;
    if (isCachedSecret(existing)) return undefined;
    if (status.secretLease?.id === undefined || status.secretLease.id === '') return undefined;
    if (status.lastGeneration !== (object.metadata.generation ?? 0)) return undefined;
    const forceSync = object.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
    if (forceSync !== undefined && forceSync !== status.lastForceSync) return undefined;
    const data = existing.data ?? {};
    // Ours already (written after the switch-over): the usual path decides.
    if (status.secretMAC === secretMac(this.options.macKey, data)) return undefined;
    return status.secretMAC === secretMac(vsoMacKey, data) ? existing : undefined;
  }

  /**
   * Takes over what VSO synced, without new credentials while VSO's lease is valid: the lease is renewed
   * at once through our own token (which proves Vault still has it and puts it on our schedule), the
   * Secret is relabelled as ours (its data untouched, so no workload restarts), and status gets our MAC
   * and client. A lease past its end, or one Vault will not renew, is replaced by new credentials.
   */
  private async adopt(
    object: VaultDynamicSecret,
    spec: VaultDynamicSecretSpec,
    existing: V1Secret,
    generation: number,
    manager: TokenManager,
    clientMeta: VaultClientMeta,
    logger: Logger,
  ): Promise<{ ok: true; result: ReconcileResult } | { ok: false; reason: IssueReason }> {
    const status = object.status!;
    const lease = status.secretLease!;
    const endsAt = ((status.lastRenewalTime ?? 0) + lease.duration) * 1000;
    if (lease.duration > 0 && endsAt <= this.now()) {
      logger.info({ leaseEnded: new Date(endsAt).toISOString() }, "VSO's lease has ended; issuing new credentials");
      return { ok: false, reason: 'AdoptedLeaseExpired' };
    }
    let adoptedLease = lease;
    if (lease.duration > 0 && lease.renewable) {
      const renewed = await this.renew(manager.client, lease, logger);
      if (!renewed.ok) {
        await this.options.events?.record(object, 'Warning', 'SecretLeaseRenewalError', renewed.message);
        return { ok: false, reason: renewed.reason };
      }
      adoptedLease = renewed.lease;
    }
    const owner: Owner = {
      apiVersion: apiVersionOf(this.api),
      kind: 'VaultDynamicSecret',
      name: object.metadata.name,
      uid: object.metadata.uid,
    };
    const data = existing.data ?? {};
    const plan = planWrite(spec.destination, object.metadata.namespace, owner, data, existing);
    if (plan.action === 'refuse') throw new ReconcileError(plan.reason, plan.message);
    await writeDestination(this.core, object.metadata.namespace, spec.destination.name, plan, this.options.ownWrites);
    const message = `Took over the Secret ${spec.destination.name} and lease VSO synced (MAC checked with VSO's key); lease ${adoptedLease.duration}s renewed through this operator's token, no new credentials`;
    logger.info({ secretName: spec.destination.name, leaseSeconds: adoptedLease.duration }, 'adopted what VSO synced');
    await this.options.events?.record(object, 'Normal', 'SecretAdopted', message);
    this.options.onResult?.('renewed');
    const next: VaultDynamicSecretStatus = {
      ...status,
      secretLease: adoptedLease,
      lastRenewalTime: Math.floor(this.now() / 1000),
      secretMAC: secretMac(this.options.macKey, data),
      vaultClientMeta: clientMeta,
      ...this.runtimePod(),
      conditions: setConditions(status.conditions, [
        { type: 'SecretSynced', status: 'True', reason: 'Adopted', message, observedGeneration: generation },
        { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
        { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
      ]),
    };
    if (await this.writeStatus(object, next)) return { ok: true, result: { requeueAfterMs: 200 } };
    const delay =
      adoptedLease.duration > 0
        ? renewalDelayMs(adoptedLease.duration, {
            renewFraction: spec.renewalPercent / 100,
            jitterFraction: JITTER * (spec.renewalPercent / 100),
          })
        : spec.refreshAfterMs;
    return { ok: true, result: delay === undefined ? {} : { requeueAfterMs: this.wakeUp(delay, manager) } };
  }

  /** Why a new secret is needed now, whatever the lease says; undefined when the lease decides. */
  private issueReason(
    object: VaultDynamicSecret,
    spec: VaultDynamicSecretSpec,
    existing: ExistingSecret | undefined,
    clientId: string | undefined,
  ): IssueReason | undefined {
    const status = object.status ?? {};
    if (status.secretLease === undefined || status.lastGeneration === undefined) return 'InitialSync';
    if (status.lastGeneration !== (object.metadata.generation ?? 0)) return 'ResourceUpdated';
    const forceSync = object.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
    if (forceSync !== undefined && forceSync !== status.lastForceSync) return 'ForceSync';
    if (existing === undefined) return 'InexistentDestination';
    // Credentials are kept nowhere but in the Secret: an edited Secret can only be repaired with new ones.
    if (status.secretMAC !== undefined && status.secretMAC !== existingDataMac(this.options.macKey, existing))
      return 'DestinationDrift';
    // Vault revokes a token's leases with the token: credentials from a previous token (an operator
    // restart, a re-login at the token's max TTL) die when it expires, so new ones are issued.
    if (status.vaultClientMeta?.id !== undefined && clientId !== undefined && status.vaultClientMeta.id !== clientId)
      return 'VaultTokenRotated';
    void spec;
    return undefined;
  }

  /** VSO's `status.lastRuntimePodUID`: which operator pod synced last (a leader change or restart shows). */
  private runtimePod(): { lastRuntimePodUID?: string } {
    return this.options.runtimePodUid === undefined ? {} : { lastRuntimePodUID: this.options.runtimePodUid };
  }

  /** Requeue delay: the renewal point, but no later than the token's own expiry (to notice a re-login). */
  private wakeUp(untilWindowMs: number, manager: TokenManager): number {
    const tokenExpiresAt = manager.info?.expiresAt;
    const untilToken =
      tokenExpiresAt !== undefined && Number.isFinite(tokenExpiresAt) ? tokenExpiresAt - this.now() : Infinity;
    return Math.max(MIN_HORIZON_MS, Math.round(Math.min(untilWindowMs + Math.random() * 100, untilToken)));
  }

  private async renew(
    client: VaultClient,
    lease: SecretLease,
    logger: Logger,
  ): Promise<{ ok: true; lease: SecretLease } | { ok: false; reason: IssueReason; message: string }> {
    try {
      const renewed = await renewLease(client, lease.id, { incrementSeconds: lease.duration });
      const granted = renewed.leaseDurationSeconds;
      if (granted < lease.duration) {
        return {
          ok: false,
          reason: 'LeaseTruncated',
          message: `Lease renewal was truncated from ${lease.duration}s to ${granted}s (max TTL); requesting new credentials`,
        };
      }
      return { ok: true, lease: { ...lease, duration: granted, renewable: renewed.renewable } };
    } catch (error) {
      logger.info({ err: error }, 'lease renewal failed; issuing new credentials');
      return {
        ok: false,
        reason: 'LeaseRenewalFailed',
        message: `Lease renewal failed (${error instanceof Error ? error.message : String(error)}); requesting new credentials`,
      };
    }
  }

  private async recordRenewal(
    object: VaultDynamicSecret,
    spec: VaultDynamicSecretSpec,
    lease: SecretLease,
    generation: number,
    manager: TokenManager,
    clientMeta: VaultClientMeta,
  ): Promise<ReconcileResult> {
    const message = `Lease renewed for ${lease.duration}s`;
    const status: VaultDynamicSecretStatus = {
      ...object.status,
      vaultClientMeta: clientMeta,
      ...this.runtimePod(),
      secretLease: lease,
      lastRenewalTime: Math.floor(this.now() / 1000),
      conditions: setConditions(object.status?.conditions, [
        { type: 'LeaseRenewal', status: 'True', reason: 'LeaseRenewed', message, observedGeneration: generation },
        { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
        { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
      ]),
    };
    await this.options.events?.record(object, 'Normal', 'SecretLeaseRenewal', message);
    this.options.onResult?.('renewed');
    if (await this.writeStatus(object, status)) return { requeueAfterMs: 200 };
    return {
      requeueAfterMs: this.wakeUp(
        renewalDelayMs(lease.duration, {
          renewFraction: spec.renewalPercent / 100,
          jitterFraction: JITTER * (spec.renewalPercent / 100),
        }),
        manager,
      ),
    };
  }

  private async issue(
    object: VaultDynamicSecret,
    spec: VaultDynamicSecretSpec,
    existing: ExistingSecret | undefined,
    reason: IssueReason,
    role: string,
    generation: number,
    manager: TokenManager,
    clientMeta: VaultClientMeta,
    logger: Logger,
  ): Promise<ReconcileResult> {
    const namespace = object.metadata.namespace;
    const secret = await this.request(manager.client, spec, role);
    let data: Record<string, string>;
    try {
      data = transformSecretData(secret.data, secret.data, spec.destination.transformation, {
        annotations: object.metadata.annotations,
        labels: object.metadata.labels,
      });
    } catch (error) {
      if (error instanceof SecretDataError)
        throw new ReconcileError('SecretDataError', `${spec.mount}/${spec.path}: ${error.message}`);
      throw error;
    }
    const lease: SecretLease = {
      id: secret.leaseId,
      duration: secret.leaseDurationSeconds,
      renewable: secret.renewable,
      requestID: secret.requestId,
    };
    // A static role answers with the same password until Vault rotates it; its ttl changes on every read.
    const staticMeta = spec.allowStaticCreds && lease.duration === 0 ? staticCredsMetaData(secret.data) : undefined;
    const previousStatic = object.status?.staticCredsMetaData;
    const sameStaticCreds =
      staticMeta !== undefined && previousStatic?.lastVaultRotation === staticMeta.lastVaultRotation;
    if (sameStaticCreds && reason === 'StaticCredsRotation' && existing !== undefined) {
      // Not rotated yet (read a little early, or Vault is late): nothing to write; read again after the new ttl.
      const status: VaultDynamicSecretStatus = {
        ...object.status,
        lastRenewalTime: Math.floor(this.now() / 1000),
        staticCredsMetaData: staticMeta,
      };
      if (await this.writeStatus(object, status)) return { requeueAfterMs: 200 };
      this.options.onResult?.('unchanged');
      return { requeueAfterMs: staticRereadDelayMs(staticMeta.ttl) };
    }
    const owner: Owner = {
      apiVersion: apiVersionOf(this.api),
      kind: 'VaultDynamicSecret',
      name: object.metadata.name,
      uid: object.metadata.uid,
    };
    const dataMac = secretMac(this.options.macKey, data);
    const plan = planWrite(spec.destination, namespace, owner, data, existing, dataMac);
    if (plan.action === 'refuse') throw new ReconcileError(plan.reason, plan.message);
    await writeDestination(this.core, namespace, spec.destination.name, plan, this.options.ownWrites, dataMac);
    // New credentials, unless a static role's password is the one already synced (a repaired Secret, a spec change).
    const rotated = reason !== 'InitialSync' && !sameStaticCreds;
    const horizon =
      staticMeta !== undefined
        ? `static role, rotated by Vault every ${staticMeta.rotationPeriod || staticMeta.rotationSchedule}${staticMeta.rotationPeriod ? 's' : ''}`
        : lease.duration > 0
          ? `lease ${lease.duration}s, renewed at ${spec.renewalPercent}%`
          : spec.refreshAfterMs !== undefined
            ? `re-issued every ${spec.refreshAfterMs / 1000}s`
            : 'no lease';
    const message = `Secret ${spec.destination.name} ${rotated ? 'rotated' : 'synced'} from ${spec.mount}/${spec.path} (${horizon}; reason ${reason})`;
    logger.info(
      { secretName: spec.destination.name, reason, leaseSeconds: lease.duration },
      rotated ? 'new credentials issued' : 'credentials issued',
    );
    await this.options.events?.record(object, 'Normal', rotated ? 'SecretRotated' : 'SecretSynced', message);
    this.options.onResult?.('issued');

    // New credentials: restart the workloads that read them at start-up (never on the first sync).
    const restart =
      rotated && spec.rolloutRestartTargets.length > 0
        ? await restartOrSchedule(this.options, object, spec.rolloutRestartTargets, generation)
        : undefined;
    const status: VaultDynamicSecretStatus = {
      ...object.status,
      lastGeneration: generation,
      lastRenewalTime: Math.floor(this.now() / 1000),
      secretLease: lease,
      secretMAC: dataMac,
      vaultClientMeta: clientMeta,
      ...this.runtimePod(),
      ...forceSyncStatus(object),
      ...(staticMeta === undefined ? {} : { staticCredsMetaData: staticMeta }),
      conditions: setConditions(object.status?.conditions, [
        { type: 'SecretSynced', status: 'True', reason: 'Synced', message, observedGeneration: generation },
        { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
        { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
        ...(restart === undefined ? [] : [restart]),
      ]),
    };
    if (await this.writeStatus(object, status)) return { requeueAfterMs: 200 };
    if (staticMeta !== undefined) return { requeueAfterMs: staticRereadDelayMs(staticMeta.ttl) };
    if (lease.duration > 0) {
      return {
        requeueAfterMs: this.wakeUp(
          renewalDelayMs(lease.duration, {
            renewFraction: spec.renewalPercent / 100,
            jitterFraction: JITTER * (spec.renewalPercent / 100),
          }),
          manager,
        ),
      };
    }
    return spec.refreshAfterMs === undefined
      ? {}
      : { requeueAfterMs: this.wakeUp(spec.refreshAfterMs * (1 - JITTER * Math.random()), manager) };
  }

  private async request(client: VaultClient, spec: VaultDynamicSecretSpec, role: string): Promise<DynamicSecret> {
    const path = `${spec.mount}/${spec.path}`;
    try {
      return spec.requestHTTPMethod === 'GET'
        ? await readDynamicSecret(client, path)
        : await writeDynamicSecret(client, path, spec.params);
    } catch (error) {
      const where = `${path} (spec.mount, spec.path)`;
      if (error instanceof VaultPermissionError) {
        throw new ReconcileError(
          'VaultPermissionDenied',
          `Vault denied ${spec.requestHTTPMethod === 'GET' ? 'reading' : 'writing'} ${where} (403): the policies of Vault role "${role}" must allow ${spec.requestHTTPMethod === 'GET' ? 'read' : 'update'} on it`,
        );
      }
      if (error instanceof VaultNotFoundError)
        throw new ReconcileError(
          'VaultSecretNotFound',
          `nothing to issue at ${where}: check the mount and the role name`,
        );
      throw error;
    }
  }

  /** Deletion: revoke the lease (best effort, never blocking the deletion for long), then let go. */
  private async finalize(object: VaultDynamicSecret, logger: Logger): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(REVOKE_FINALIZER)) return;
    const leaseId = object.status?.secretLease?.id;
    if (leaseId) {
      try {
        const spec = parseVaultDynamicSecretSpec(object.spec);
        const { manager } = await this.options.clients.get(spec.vaultAuthRef, object.metadata.namespace);
        await revokeLease(manager.client, leaseId);
        await this.options.events?.record(object, 'Normal', 'SecretLeaseRevoke', 'Lease revoked');
        logger.info('lease revoked on deletion');
      } catch (error) {
        // A lease that cannot be revoked expires on its own; holding the object would not help.
        logger.warn({ err: error }, 'could not revoke the lease on deletion; it will expire');
        await this.options.events?.record(
          object,
          'Warning',
          'SecretLeaseRevoke',
          `Failed to revoke the lease: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    await patchFinalizers(
      this.custom,
      kinds.VaultDynamicSecret.plural,
      object,
      finalizers.filter((f) => f !== REVOKE_FINALIZER),
      this.api,
    );
  }

  /** Writes status only when it changed. Returns true on a conflict (requeue). */
  private async writeStatus(object: VaultDynamicSecret, status: VaultDynamicSecretStatus): Promise<boolean> {
    const before = object.status ?? {};
    if (
      before.lastGeneration === status.lastGeneration &&
      before.secretMAC === status.secretMAC &&
      before.lastRenewalTime === status.lastRenewalTime &&
      JSON.stringify(before.secretLease) === JSON.stringify(status.secretLease) &&
      before.lastForceSync === status.lastForceSync &&
      JSON.stringify(before.staticCredsMetaData) === JSON.stringify(status.staticCredsMetaData) &&
      sameConditions(before.conditions, status.conditions) &&
      JSON.stringify(before.vaultClientMeta) === JSON.stringify(status.vaultClientMeta) &&
      before.lastRuntimePodUID === status.lastRuntimePodUID
    )
      return false;
    try {
      const updated = await this.custom.replaceNamespacedCustomObjectStatus({
        group: this.api.group,
        version: this.api.version,
        namespace: object.metadata.namespace,
        plural: kinds.VaultDynamicSecret.plural,
        name: object.metadata.name,
        body: { ...object, status },
      });
      object.metadata.resourceVersion = (updated as VaultDynamicSecret).metadata.resourceVersion;
      // The next reconcile must see this lease, even before the watch delivers it: a stale one would re-issue.
      this.options.objects?.written(
        `${object.metadata.namespace}/${object.metadata.name}`,
        updated as VaultDynamicSecret,
      );
      return false;
    } catch (error) {
      if (isConflict(error)) return true;
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
