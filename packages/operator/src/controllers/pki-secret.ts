// VaultPKISecret reconcile, in VSO's order (§2.8 of the reference): a certificate is issued on the first
// sync, a spec change, a deleted or edited Secret, and when the renewal point comes; between those the
// reconcile only requeues, with no Vault call. The certificate's serial and expiry live in status.
import type { V1Secret } from '@kubernetes/client-node';
import { CoreApi, CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import {
  issueCertificate,
  revokeCertificate,
  VaultError,
  VaultNotFoundError,
  VaultPermissionError,
  VaultProtocolError,
  type Logger,
  type PkiIssueData,
  type VaultClient,
} from '@vaultbridge/core';
import { apiVersionOf, FORCE_SYNC_ANNOTATION, OUR_API, type ApiGroup } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import {
  parseVaultPkiSecretSpec,
  pkiIssueOptions,
  pkiIssuePath,
  type VaultPkiSecret,
  type VaultPkiSecretSpec,
  type VaultPkiSecretStatus,
} from '../api/vault-pki-secret.ts';
import { sameConditions, setConditions, type ConditionInput } from '../runtime/conditions.ts';
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
  type TemplateContext,
} from '../sync/destination.ts';
import type { Transformation } from '../api/sync-target.ts';
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
  readSecretIfExists,
  restartOrSchedule,
  syncFinalizer,
  writeDestination,
  type DestinationCache,
} from './shared.ts';
import type { LatestObjects } from '../runtime/latest-objects.ts';
import type { SecretTransformation } from '../api/secret-transformation.ts';
import { resolveTransformationRefs } from '../sync/transformation-refs.ts';
import { ReconcileError } from '../runtime/reconcile-error.ts';
import type { VaultClientFactory } from './vault-clients.ts';

/** Held while deletion has work to do: `revoke`, or `clear` of a Secret this object did not create. */
export const PKI_FINALIZER = 'secrets.vaultbridge.dev/pki-cleanup';

/** Without expiryOffset: re-issue at this fraction of the certificate's life (VSO re-issues at expiry). */
const DEFAULT_RENEW_FRACTION = 2 / 3;
/** Up to this fraction of the time to the renewal point is taken off at random (VSO: 5%). */
const JITTER = 0.05;
const MIN_HORIZON_MS = 1000;

export type PkiIssueReason =
  'InitialSync' | 'ResourceUpdated' | 'ForceSync' | 'InexistentDestination' | 'SecretDataDrift' | 'Expiring';

interface IssueData {
  certificate: string;
  issuing_ca?: string;
  ca_chain?: string[];
  private_key?: string;
  private_key_type?: string;
  serial_number?: string;
  expiration?: number;
}

export interface PkiSecretControllerOptions {
  kube: KubeJson;
  logger: Logger;
  clients: VaultClientFactory;
  macKey: Buffer;
  events?: EventRecorder;
  restarts?: RestartBatcher;
  /** Fingerprints of our own writes, shared with the destination watch. */
  ownWrites?: OwnWrites;
  now?: () => number;
  onResult?: (result: 'issued' | 'unchanged' | 'error') => void;
  /** The informer's objects (and our writes' answers): read instead of a GET per reconcile. */
  objects?: LatestObjects<VaultPkiSecret>;
  /** The destination watch's cache: trusted when it matches the status MAC (see readLeasedDestination). */
  destinations?: DestinationCache;
  /** The SecretTransformation informer's objects, for transformationRefs. */
  transformations?: (namespace: string, name: string) => SecretTransformation | undefined;
  /** The API group served (VSO group mode: VSO's); ours when absent. */
  api?: ApiGroup;
  /** VSO group mode: VSO's HMAC key; a certificate VSO synced (its MAC verified) is kept, not re-issued. */
  vsoMacKey?: Buffer;
}

/** When to re-issue, in epoch ms. */
export function pkiRenewalPoint(
  lastRotationSeconds: number,
  expirationSeconds: number,
  expiryOffsetMs: number | undefined,
): number {
  const expiresAt = expirationSeconds * 1000;
  const issuedAt = lastRotationSeconds * 1000;
  // An offset as long as the certificate's life would re-issue on every reconcile (a new certificate a
  // second); such an offset falls back to the default point instead.
  if (expiryOffsetMs !== undefined && expiryOffsetMs < expiresAt - issuedAt) return expiresAt - expiryOffsetMs;
  return issuedAt + (expiresAt - issuedAt) * DEFAULT_RENEW_FRACTION;
}

/**
 * The Secret's data: Vault's fields (ca_chain joined), `_raw`, the transformation's templates, and for
 * kubernetes.io/tls without templates the tls.* keys (as VSO).
 */
export function pkiSecretData(
  data: IssueData,
  secretType: string,
  transformation?: Transformation,
  context: TemplateContext = {},
): Record<string, string> {
  const fields: Record<string, unknown> = {
    ...data,
    ...(Array.isArray(data.ca_chain) ? { ca_chain: data.ca_chain.join('\n') } : {}),
  };
  const out = transformSecretData(fields, data, transformation, context);
  if (secretType === 'kubernetes.io/tls' && Object.keys(transformation?.templates ?? {}).length === 0) {
    const chain = data.ca_chain?.length ? data.ca_chain.join('\n') : (data.issuing_ca ?? '');
    out['tls.key'] = Buffer.from(data.private_key ?? '').toString('base64');
    out['tls.crt'] = Buffer.from(chain ? `${data.certificate}\n${chain}` : data.certificate).toString('base64');
    if (!data.ca_chain?.length && data.issuing_ca) out['ca.crt'] = Buffer.from(data.issuing_ca).toString('base64');
  }
  return out;
}

export class PkiSecretController {
  private readonly custom: CustomApi;
  private readonly core: CoreApi;
  private readonly options: PkiSecretControllerOptions;
  private readonly now: () => number;
  private readonly api: ApiGroup;

  constructor(options: PkiSecretControllerOptions) {
    this.options = options;
    this.custom = new CustomApi(options.kube);
    this.core = new CoreApi(options.kube);
    this.now = options.now ?? Date.now;
    this.api = options.api ?? OUR_API;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const logger = this.options.logger.child({ kind: 'VaultPKISecret', namespace, name });
    // A copy (get, not peek): finalizer and status writes below change it in place.
    const object =
      this.options.objects?.get(key) ??
      (await getSyncedObject<VaultPkiSecret>(this.custom, kinds.VaultPKISecret.plural, namespace, name, this.api));
    if (object === undefined) return {};
    if (object.metadata.deletionTimestamp) {
      await this.finalize(object, logger);
      return {};
    }
    const generation = object.metadata.generation ?? 0;
    try {
      const spec = parseSpec(parseVaultPkiSecretSpec, object.spec);
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
        kinds.VaultPKISecret.plural,
        object,
        PKI_FINALIZER,
        spec.revoke || (spec.clear && !spec.destination.create),
        this.api,
      );
      if (object.metadata.resourceVersion !== resourceVersion)
        this.options.objects?.written(key, structuredClone(object));

      const status = object.status ?? {};
      const existing = await readLeasedDestination(
        this.core,
        this.options.destinations,
        namespace,
        spec.destination.name,
        status.secretMAC,
        spec.destination.create,
      );
      let reason: PkiIssueReason | undefined;
      let syncedByVso: V1Secret | undefined;
      if (!status.serialNumber || status.expiration === undefined) reason = 'InitialSync';
      else if (status.lastGeneration !== generation) reason = 'ResourceUpdated';
      else if (
        object.metadata.annotations?.[FORCE_SYNC_ANNOTATION] !== undefined &&
        object.metadata.annotations[FORCE_SYNC_ANNOTATION] !== status.lastForceSync
      )
        reason = 'ForceSync';
      else if (existing === undefined) reason = 'InexistentDestination';
      else if (status.secretMAC !== undefined && status.secretMAC !== existingDataMac(this.options.macKey, existing)) {
        // VSO synced it last and nothing changed since: the certificate is kept (VSO group mode). A cached
        // summary only comes back when its MAC is ours, so this one was read whole.
        if (
          this.options.vsoMacKey !== undefined &&
          !isCachedSecret(existing) &&
          status.secretMAC === secretMac(this.options.vsoMacKey, existing.data ?? {})
        )
          syncedByVso = existing;
        else reason = 'SecretDataDrift';
      }
      if (reason === undefined && syncedByVso) return await this.adopt(object, spec, syncedByVso, generation, logger);
      if (reason === undefined) {
        const renewAt = pkiRenewalPoint(status.lastRotation ?? 0, status.expiration!, spec.expiryOffsetMs);
        const now = this.now();
        if (now < renewAt) {
          this.options.onResult?.('unchanged');
          return {
            requeueAfterMs: Math.max(MIN_HORIZON_MS, Math.round((renewAt - now) * (1 - JITTER * Math.random()))),
          };
        }
        reason = 'Expiring';
      }
      return await this.issue(object, spec, existing, reason, generation, logger);
    } catch (error) {
      this.options.onResult?.('error');
      return failReconcile(
        { events: this.options.events, logger },
        object,
        error,
        (o, status) => this.writeStatus(o, status),
        (failure) => ({ fields: { valid: false, error: failure.reason } }),
      );
    }
  }

  private async issue(
    object: VaultPkiSecret,
    spec: VaultPkiSecretSpec,
    existing: ExistingSecret | undefined,
    reason: PkiIssueReason,
    generation: number,
    logger: Logger,
  ): Promise<ReconcileResult> {
    const namespace = object.metadata.namespace;
    const { manager, role } = await this.options.clients.get(spec.vaultAuthRef, namespace);
    const data = await this.request(manager.client, spec, role);
    let secretData: Record<string, string>;
    try {
      secretData = pkiSecretData(data, spec.destination.type, spec.destination.transformation, {
        annotations: object.metadata.annotations,
        labels: object.metadata.labels,
      });
    } catch (error) {
      if (error instanceof SecretDataError)
        throw new ReconcileError('SecretDataError', `${pkiIssuePath(spec)}: ${error.message}`);
      throw error;
    }
    const owner: Owner = {
      apiVersion: apiVersionOf(this.api),
      kind: 'VaultPKISecret',
      name: object.metadata.name,
      uid: object.metadata.uid,
    };
    const secretDataMac = secretMac(this.options.macKey, secretData);
    const plan = planWrite(spec.destination, namespace, owner, secretData, existing, secretDataMac);
    if (plan.action === 'refuse') throw new ReconcileError(plan.reason, plan.message);
    await writeDestination(this.core, namespace, spec.destination.name, plan, this.options.ownWrites, secretDataMac);

    const previousSerial = object.status?.serialNumber;
    const rotated = previousSerial !== undefined && previousSerial !== '' && previousSerial !== data.serial_number;
    const expiresAt = new Date(data.expiration * 1000).toISOString();
    const message = `Certificate ${rotated ? 'rotated' : 'issued'} into Secret ${spec.destination.name}: serial ${data.serial_number}, expires ${expiresAt} (reason ${reason})`;
    logger.info(
      { secretName: spec.destination.name, serial: data.serial_number, expiresAt, reason },
      rotated ? 'certificate rotated' : 'certificate issued',
    );
    await this.options.events?.record(object, 'Normal', rotated ? 'SecretRotated' : 'SecretSynced', message);
    this.options.onResult?.('issued');

    let restart: ConditionInput | undefined;
    if (rotated) {
      if (spec.rolloutRestartTargets.length > 0)
        restart = await restartOrSchedule(this.options, object, spec.rolloutRestartTargets, generation);
      // The new certificate is in place; the old one is revoked only now, so nothing serves a revoked one meanwhile.
      if (spec.revoke) await this.revokeSerial(manager.client, spec, previousSerial!, object, logger);
    }
    const now = this.now();
    const status: VaultPkiSecretStatus = {
      ...object.status,
      lastGeneration: generation,
      serialNumber: data.serial_number,
      expiration: data.expiration,
      lastRotation: Math.floor(now / 1000),
      secretMAC: secretDataMac,
      valid: true,
      error: '',
      ...forceSyncStatus(object),
      conditions: setConditions(object.status?.conditions, [
        { type: 'SecretSynced', status: 'True', reason: 'Synced', message, observedGeneration: generation },
        { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
        { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
        ...(restart === undefined ? [] : [restart]),
      ]),
    };
    if (await this.writeStatus(object, status)) return { requeueAfterMs: 200 };
    const renewAt = pkiRenewalPoint(status.lastRotation!, data.expiration, spec.expiryOffsetMs);
    return { requeueAfterMs: Math.max(MIN_HORIZON_MS, Math.round((renewAt - now) * (1 - JITTER * Math.random()))) };
  }

  /**
   * Takes over the certificate VSO issued (its status MAC verified with VSO's key): the Secret is
   * relabelled as ours, data untouched, and status gets our MAC; renewal then follows its schedule.
   */
  private async adopt(
    object: VaultPkiSecret,
    spec: VaultPkiSecretSpec,
    existing: V1Secret,
    generation: number,
    logger: Logger,
  ): Promise<ReconcileResult> {
    const namespace = object.metadata.namespace;
    const owner: Owner = {
      apiVersion: apiVersionOf(this.api),
      kind: 'VaultPKISecret',
      name: object.metadata.name,
      uid: object.metadata.uid,
    };
    const data = existing.data ?? {};
    const plan = planWrite(spec.destination, namespace, owner, data, existing);
    if (plan.action === 'refuse') throw new ReconcileError(plan.reason, plan.message);
    await writeDestination(this.core, namespace, spec.destination.name, plan, this.options.ownWrites);
    const status = object.status!;
    const message = `Took over the certificate VSO issued into Secret ${spec.destination.name} (serial ${status.serialNumber}; MAC checked with VSO's key), no new certificate`;
    logger.info({ secretName: spec.destination.name, serial: status.serialNumber }, 'adopted what VSO synced');
    await this.options.events?.record(object, 'Normal', 'SecretAdopted', message);
    this.options.onResult?.('unchanged');
    const next: VaultPkiSecretStatus = {
      ...status,
      secretMAC: secretMac(this.options.macKey, data),
      valid: true,
      error: '',
      conditions: setConditions(status.conditions, [
        { type: 'SecretSynced', status: 'True', reason: 'Adopted', message, observedGeneration: generation },
        { type: 'Healthy', status: 'True', reason: 'Healthy', message, observedGeneration: generation },
        { type: 'Ready', status: 'True', reason: 'Ready', message, observedGeneration: generation },
      ]),
    };
    if (await this.writeStatus(object, next)) return { requeueAfterMs: 200 };
    const renewAt = pkiRenewalPoint(status.lastRotation ?? 0, status.expiration!, spec.expiryOffsetMs);
    return {
      requeueAfterMs: Math.max(MIN_HORIZON_MS, Math.round((renewAt - this.now()) * (1 - JITTER * Math.random()))),
    };
  }

  /** Issues through core (deadline, retries, the key registered with the log redactor); errors say what to fix. */
  private async request(client: VaultClient, spec: VaultPkiSecretSpec, role: string): Promise<PkiIssueData> {
    const path = pkiIssuePath(spec);
    try {
      return (await issueCertificate(client, pkiIssueOptions(spec))).secret.data;
    } catch (error) {
      const where = `${path} (spec.mount, spec.role${spec.issuerRef ? ', spec.issuerRef' : ''})`;
      if (error instanceof VaultPermissionError)
        throw new ReconcileError(
          'VaultPermissionDenied',
          `Vault denied issuing from ${where} (403): the policies of Vault role "${role}" must allow update on it`,
        );
      if (error instanceof VaultNotFoundError)
        throw new ReconcileError('VaultSecretNotFound', `no PKI role at ${where}`);
      if (error instanceof VaultProtocolError) throw new ReconcileError('VaultProtocolError', error.message);
      if (error instanceof VaultError && error.status === 400) {
        // Vault's 400 says which request field the role refused (a common name outside allowed_domains, a TTL over max_ttl…).
        throw new ReconcileError(
          'VaultRejectedRequest',
          `Vault refused to issue from ${where}: ${error.errors.join('; ') || error.message}`,
        );
      }
      throw error;
    }
  }

  private async revokeSerial(
    client: VaultClient,
    spec: VaultPkiSecretSpec,
    serial: string,
    object: VaultPkiSecret,
    logger: Logger,
  ): Promise<void> {
    try {
      await revokeCertificate(client, { mount: spec.mount, serialNumber: serial });
      await this.options.events?.record(object, 'Normal', 'CertificateRevoked', `Certificate ${serial} revoked`);
    } catch (error) {
      logger.warn({ err: error, serial }, 'could not revoke the certificate');
      await this.options.events?.record(
        object,
        'Warning',
        'CertificateRevocationError',
        `Could not revoke certificate ${serial}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Deletion: revoke (with `revoke`), clear a Secret we did not create (with `clear`), then let go. Never blocks for long. */
  private async finalize(object: VaultPkiSecret, logger: Logger): Promise<void> {
    const finalizers = object.metadata.finalizers ?? [];
    if (!finalizers.includes(PKI_FINALIZER)) return;
    try {
      const spec = parseVaultPkiSecretSpec(object.spec);
      const serial = object.status?.serialNumber;
      if (spec.revoke && serial) {
        const { manager } = await this.options.clients.get(spec.vaultAuthRef, object.metadata.namespace);
        await this.revokeSerial(manager.client, spec, serial, object, logger);
      }
      if (spec.clear && !spec.destination.create) {
        const existing = await readSecretIfExists(this.core, object.metadata.namespace, spec.destination.name);
        if (existing)
          await this.core.replaceNamespacedSecret({
            name: spec.destination.name,
            namespace: object.metadata.namespace,
            body: { ...existing, data: {} },
          });
      }
    } catch (error) {
      logger.warn({ err: error }, 'cleanup on deletion failed; letting the object go');
    }
    await patchFinalizers(
      this.custom,
      kinds.VaultPKISecret.plural,
      object,
      finalizers.filter((f) => f !== PKI_FINALIZER),
      this.api,
    );
  }

  private async writeStatus(object: VaultPkiSecret, status: VaultPkiSecretStatus): Promise<boolean> {
    const before = object.status ?? {};
    if (
      before.lastGeneration === status.lastGeneration &&
      before.serialNumber === status.serialNumber &&
      before.secretMAC === status.secretMAC &&
      before.valid === status.valid &&
      before.error === status.error &&
      before.lastForceSync === status.lastForceSync &&
      sameConditions(before.conditions, status.conditions)
    )
      return false;
    try {
      const updated = await this.custom.replaceNamespacedCustomObjectStatus({
        group: this.api.group,
        version: this.api.version,
        namespace: object.metadata.namespace,
        plural: kinds.VaultPKISecret.plural,
        name: object.metadata.name,
        body: { ...object, status },
      });
      object.metadata.resourceVersion = (updated as VaultPkiSecret).metadata.resourceVersion;
      // The next reconcile must see this certificate's status, even before the watch delivers it: a stale one would re-issue.
      this.options.objects?.written(`${object.metadata.namespace}/${object.metadata.name}`, updated as VaultPkiSecret);
      return false;
    } catch (error) {
      if (isConflict(error)) return true;
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
