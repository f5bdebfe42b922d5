// What the secret controllers do alike: read the destination, restart workloads, hold finalizers,
// report a failure once.
import type { V1Secret } from '@kubernetes/client-node';
import { CoreApi, CustomApi } from '../runtime/kube-api.ts';
import {
  apiVersionOf,
  FORCE_SYNC_ANNOTATION,
  OUR_API,
  SpecError,
  type ApiGroup,
  type Condition,
} from '../api/common.ts';
import type { Logger } from '@vaultbridge/core';
import type { ReconcileResult } from '../runtime/queue.ts';
import { kinds } from '../api/crds.ts';
import type { RolloutRestartTarget } from '../api/sync-target.ts';
import { failedConditions, setConditions, type ConditionInput } from '../runtime/conditions.ts';
import type { EventRecorder, EventSubject } from '../runtime/events.ts';
import { rolloutRestartAll } from '../workloads/rollout-restart.ts';
import type { RestartBatcher, RestartOutcome } from '../workloads/restart-batcher.ts';
import type { CachedSecret, ExistingSecret, WritePlan } from '../sync/destination.ts';
import type { OwnWrites } from '../sync/own-writes.ts';
import { MERGE_PATCH, type KubeJson } from '../runtime/kube-json.ts';
import { isConflict, isNotFound } from '@vaultbridge/core';
import { ReconcileError, toReconcileError } from '../runtime/reconcile-error.ts';

interface Subject extends EventSubject {
  metadata: EventSubject['metadata'] & {
    namespace: string;
    resourceVersion?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  status?: { conditions?: Condition[] };
}

export async function readSecretIfExists(
  core: CoreApi,
  namespace: string,
  name: string,
): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The destination watch's cache (Secrets we manage, each as a CachedSecret: its data's MAC, not its
 * data). `synced` says it has listed, so a Secret it does not hold is not one of ours.
 */
export interface DestinationCache {
  get: (namespace: string, name: string) => CachedSecret | undefined;
  synced: () => boolean;
}

/**
 * The destination of a leased secret: the watch cache's summary when its MAC is exactly what the status
 * MAC says was written, else one GET (so whoever needs the data, to adopt what VSO wrote, has it). A
 * stale cache (our last write not delivered yet) must never look like drift or a missing Secret: either
 * would issue new credentials. `create: false` Secrets are always read: their update sends the user's
 * metadata back, which the summary does not hold.
 */
export async function readLeasedDestination(
  core: CoreApi,
  cache: DestinationCache | undefined,
  namespace: string,
  name: string,
  expectedMac: string | undefined,
  create: boolean,
): Promise<ExistingSecret | undefined> {
  const cached = create && expectedMac !== undefined && cache?.synced() ? cache.get(namespace, name) : undefined;
  if (cached !== undefined && cached.dataMac === expectedMac) return cached;
  return readSecretIfExists(core, namespace, name);
}

/**
 * Carries out a create or update plan. The data is fingerprinted first, so the destination watch
 * recognises the write as ours (it may see it before this call returns) and does not repair it.
 */
export async function writeDestination(
  core: CoreApi,
  namespace: string,
  name: string,
  plan: WritePlan,
  ownWrites: OwnWrites | undefined,
  dataMac?: string,
  json?: KubeJson,
): Promise<void> {
  if (plan.action !== 'create' && plan.action !== 'update') return;
  if (dataMac !== undefined) ownWrites?.recordMac(namespace, name, dataMac);
  else ownWrites?.record(namespace, name, plan.secret.data ?? {});
  // Plain JSON when given (the hot path of a sync; see KubeJson), the typed client otherwise.
  if (json !== undefined) {
    if (plan.action === 'create') await json.createSecret(namespace, plan.secret);
    else await json.replaceSecret(namespace, name, plan.secret);
    return;
  }
  if (plan.action === 'create') await core.createNamespacedSecret({ namespace, body: plan.secret });
  else await core.replaceNamespacedSecret({ name, namespace, body: plan.secret });
}

/** Restarts `targets`, records an Event per target, and returns the RolloutRestart condition. */
export async function restartWorkloads(
  kube: KubeJson,
  events: EventRecorder | undefined,
  object: Subject,
  targets: readonly RolloutRestartTarget[],
  generation: number,
): Promise<ConditionInput> {
  const failures = await rolloutRestartAll(kube, object.metadata.namespace, targets);
  const failed = new Set(failures.map((failure) => failure.target));
  for (const target of targets) {
    if (!failed.has(target))
      await events?.record(
        object,
        'Normal',
        'RolloutRestartTriggered',
        `Rollout restart triggered for ${target.kind} ${target.name}`,
      );
  }
  for (const failure of failures)
    await events?.record(object, 'Warning', 'RolloutRestartFailed', `Rollout restart failed for ${failure.message}`);
  return failures.length === 0
    ? {
        type: 'RolloutRestart',
        status: 'True',
        reason: 'RolloutRestartTriggered',
        message: `restarted ${targets.map((t) => `${t.kind} ${t.name}`).join(', ')}`,
        observedGeneration: generation,
      }
    : {
        type: 'RolloutRestart',
        status: 'False',
        reason: 'RolloutRestartTriggeredFailed',
        message: failures.map((f) => f.message).join('; '),
        observedGeneration: generation,
      };
}

/** One Warning Event per new failure, not one per retry: retries of the same failure show in the status. */
export async function recordFailureOnce(
  events: EventRecorder | undefined,
  object: Subject,
  failure: ReconcileError,
): Promise<void> {
  const ready = object.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && ready.reason === failure.reason && ready.message === failure.message) return;
  await events?.record(object, 'Warning', failure.reason, failure.message);
}

/** Sets the finalizer list, as a compare-and-swap on resourceVersion (a concurrent change is a conflict, not a lost finalizer). */
export async function patchFinalizers(
  custom: CustomApi,
  plural: string,
  object: Subject,
  finalizers: string[],
  api: ApiGroup = OUR_API,
): Promise<void> {
  try {
    const updated = (await custom.patchNamespacedCustomObject(
      {
        group: api.group,
        version: api.version,
        namespace: object.metadata.namespace,
        plural,
        name: object.metadata.name,
        body: { metadata: { finalizers, resourceVersion: object.metadata.resourceVersion } },
      },
      MERGE_PATCH,
    )) as Subject;
    object.metadata.resourceVersion = updated.metadata.resourceVersion;
    object.metadata.finalizers = finalizers;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Holds `finalizer` exactly while `wanted`. */
export async function syncFinalizer(
  custom: CustomApi,
  plural: string,
  object: Subject,
  finalizer: string,
  wanted: boolean,
  api: ApiGroup = OUR_API,
): Promise<void> {
  const finalizers = object.metadata.finalizers ?? [];
  if (finalizers.includes(finalizer) === wanted) return;
  await patchFinalizers(
    custom,
    plural,
    object,
    wanted ? [...finalizers, finalizer] : finalizers.filter((f) => f !== finalizer),
    api,
  );
}

/** `{ lastForceSync }` to record that the object's current force-sync value has been acted on. */
export function forceSyncStatus(object: Subject): { lastForceSync?: string } {
  const value = object.metadata.annotations?.[FORCE_SYNC_ANNOTATION];
  return value === undefined ? {} : { lastForceSync: value };
}

/** The condition a reconcile writes when it has scheduled a batched restart (the batch sets True or False). */
export function restartScheduledCondition(
  targets: readonly RolloutRestartTarget[],
  generation: number,
): ConditionInput {
  return {
    type: 'RolloutRestart',
    status: 'Unknown',
    reason: 'RolloutRestartScheduled',
    observedGeneration: generation,
    message: `restart of ${targets.map((t) => `${t.kind} ${t.name}`).join(', ')} scheduled with the other changes of the next second`,
  };
}

/**
 * After a batch ran: one Event per target on the object that asked, and its RolloutRestart condition
 * (read, set, replaced; a conflict is retried, a deleted object ignored).
 */
export async function reportRestartOutcome(
  custom: CustomApi,
  events: EventRecorder | undefined,
  outcome: RestartOutcome,
  api: ApiGroup = OUR_API,
): Promise<void> {
  const { requester, targets, failures } = outcome;
  const plural = kinds[requester.kind as keyof typeof kinds]?.plural;
  if (plural === undefined) return;
  const subject: EventSubject = {
    apiVersion: apiVersionOf(api),
    kind: requester.kind,
    metadata: { name: requester.name, namespace: requester.namespace },
  };
  const failed = new Set(failures.map((failure) => failure.target));
  for (const target of targets) {
    if (!failed.has(target))
      await events?.record(
        subject,
        'Normal',
        'RolloutRestartTriggered',
        `Rollout restart triggered for ${target.kind} ${target.name}`,
      );
  }
  for (const failure of failures)
    await events?.record(subject, 'Warning', 'RolloutRestartFailed', `Rollout restart failed for ${failure.message}`);
  const condition: ConditionInput =
    failures.length === 0
      ? {
          type: 'RolloutRestart',
          status: 'True',
          reason: 'RolloutRestartTriggered',
          message: `restarted ${targets.map((t) => `${t.kind} ${t.name}`).join(', ')}`,
          observedGeneration: requester.generation,
        }
      : {
          type: 'RolloutRestart',
          status: 'False',
          reason: 'RolloutRestartTriggeredFailed',
          message: failures.map((f) => f.message).join('; '),
          observedGeneration: requester.generation,
        };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const object = (await custom.getNamespacedCustomObject({
        group: api.group,
        version: api.version,
        namespace: requester.namespace,
        plural,
        name: requester.name,
      })) as Subject & { status?: { conditions?: Condition[] } };
      const status = { ...object.status, conditions: setConditions(object.status?.conditions, [condition]) };
      await custom.replaceNamespacedCustomObjectStatus({
        group: api.group,
        version: api.version,
        namespace: requester.namespace,
        plural,
        name: requester.name,
        body: { ...object, status },
      });
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error)) throw error;
    }
  }
}

/** With a batcher: schedule and say so; without one (unit tests, a bare controller): restart now. */
export async function restartOrSchedule(
  options: { kube: KubeJson; events?: EventRecorder; restarts?: RestartBatcher },
  object: Subject,
  targets: readonly RolloutRestartTarget[],
  generation: number,
): Promise<ConditionInput> {
  if (options.restarts === undefined)
    return restartWorkloads(options.kube, options.events, object, targets, generation);
  options.restarts.schedule(
    { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name, generation },
    targets,
  );
  return restartScheduledCondition(targets, generation);
}

/** The object `namespace/name` of `plural`, or undefined when it is gone (deleted meanwhile). */
export async function getSyncedObject<T>(
  custom: CustomApi,
  plural: string,
  namespace: string,
  name: string,
  api: ApiGroup = OUR_API,
): Promise<T | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({
      group: api.group,
      version: api.version,
      namespace,
      plural,
      name,
    })) as T;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The spec through its parser; a bad field is InvalidSpec naming it. Per-object Vault namespaces are
 * refused unless the kind sends them (`allowNamespace`: VaultStaticSecret).
 */
export function parseSpec<S extends { namespace?: string }>(
  parse: (raw: unknown) => S,
  raw: unknown,
  options: { allowNamespace?: boolean } = {},
): S {
  let spec: S;
  try {
    spec = parse(raw);
  } catch (error) {
    if (error instanceof SpecError) throw new ReconcileError('InvalidSpec', error.message);
    throw error;
  }
  if (spec.namespace && !options.allowNamespace)
    throw new ReconcileError(
      'InvalidSpec',
      'spec.namespace: per-secret Vault namespaces are not supported yet; set spec.namespace on the VaultAuth instead',
    );
  return spec;
}

/**
 * The failure path of every secret controller: log the reason, one Event per new failure, Healthy and
 * Ready False with the reason (plus what `extra` adds), and back off. Returns the reconcile result.
 */
export async function failReconcile<O extends Subject & { metadata: Subject['metadata'] & { generation?: number } }>(
  options: { events?: EventRecorder; logger: Logger },
  object: O,
  error: unknown,
  writeStatus: (object: O, status: NonNullable<O['status']>) => Promise<unknown>,
  extra: (
    failure: ReconcileError,
    generation: number,
  ) => { conditions?: ConditionInput[]; fields?: Record<string, unknown> } = () => ({}),
): Promise<ReconcileResult> {
  const failure = toReconcileError(error);
  const generation = object.metadata.generation ?? 0;
  // An unexpected error keeps its stack in the log; a ReconcileError's message says it all.
  if (error instanceof ReconcileError)
    options.logger.warn({ reason: failure.reason, detail: failure.message }, 'reconcile failed');
  else options.logger.warn({ err: error, reason: failure.reason }, 'reconcile failed');
  await recordFailureOnce(options.events, object, failure);
  const more = extra(failure, generation);
  // SecretSynced=False from the first failure on, as VSO: tools (and the Synced printer column) read it.
  const conditions: ConditionInput[] = [
    ...(more.conditions ?? []),
    ...failedConditions(['SecretSynced', 'Healthy', 'Ready'], failure, generation),
  ];
  try {
    await writeStatus(object, {
      ...object.status,
      ...more.fields,
      conditions: setConditions(object.status?.conditions as Condition[] | undefined, conditions),
    } as NonNullable<O['status']>);
  } catch (statusError) {
    options.logger.warn({ err: statusError }, 'could not write the failure status');
  }
  return { backoff: true };
}
