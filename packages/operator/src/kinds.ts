// How the operator runs each kind of the kind table (api/kind-table.ts): its controller, the counter of
// its reconciles, and what a deletion releases. startOperator makes one informer and one work queue per
// row and wires nothing by hand; a kind in the table without a row here fails the type-check.
import type { KubeJson } from './runtime/kube-json.ts';
import type { Logger } from '@vaultbridge/core';
import type { KindName } from './api/kind-table.ts';
import type { ApiGroup } from './api/common.ts';
import type { SecretTransformation } from './api/secret-transformation.ts';
import type { VaultDynamicSecret } from './api/vault-dynamic-secret.ts';
import type { VaultPkiSecret } from './api/vault-pki-secret.ts';
import type { VaultStaticSecret } from './api/vault-static-secret.ts';
import type { VaultAuthGlobal } from './api/vault-auth-global.ts';
import { AuthGlobalStatusController, vaultAuthsUsing } from './controllers/auth-global-status.ts';
import { ConnectionStatusController, type StatusObject } from './controllers/connection-status.ts';
import { DynamicSecretController } from './controllers/dynamic-secret.ts';
import { PkiSecretController } from './controllers/pki-secret.ts';
import { StaticSecretController } from './controllers/static-secret.ts';
import { TransformationStatusController } from './controllers/transformation-status.ts';
import type { VaultClientFactory } from './controllers/vault-clients.ts';
import type { DestinationCache } from './controllers/shared.ts';
import type { EventRecorder } from './runtime/events.ts';
import type { LatestObjects } from './runtime/latest-objects.ts';
import type { ReconcileResult } from './runtime/queue.ts';
import type { InstantUpdates } from './sync/instant-updates.ts';
import type { OwnWrites } from './sync/own-writes.ts';
import type { RestartBatcher } from './workloads/restart-batcher.ts';

/** What the operator needs of every object it watches (every kind's object type has at least this). */
export interface WatchedObject {
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: Date;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  status?: { secretMAC?: string };
}

/** The object type of each kind, where a controller reads more than the metadata. */
interface KindObjects {
  VaultConnection: StatusObject;
  VaultAuth: StatusObject & { spec?: unknown };
  VaultAuthGlobal: VaultAuthGlobal;
  SecretTransformation: SecretTransformation;
  VaultStaticSecret: VaultStaticSecret;
  VaultDynamicSecret: VaultDynamicSecret;
  VaultPKISecret: VaultPkiSecret;
}
export type KindObject<K extends KindName> = K extends keyof KindObjects ? KindObjects[K] : WatchedObject;

/** One store per kind, filled by its informer and by the answers to our writes. */
export type KindStores = { readonly [K in KindName]: LatestObjects<KindObject<K>> };

/** The operator's shared parts, made once by startOperator and handed to each kind's controller. */
export interface OperatorParts {
  kube: KubeJson;
  logger: Logger;
  clients: VaultClientFactory;
  macKey: Buffer;
  events: EventRecorder;
  restarts: RestartBatcher;
  ownWrites: OwnWrites;
  instantUpdates: InstantUpdates;
  stores: KindStores;
  /** The watch of the destination Secrets (made after the controllers; read only once reconciles run). */
  destinations: DestinationCache;
  /** The SecretTransformation informer's objects, for transformationRefs. */
  transformations: (namespace: string, name: string) => SecretTransformation | undefined;
  runtimePodUid?: string;
  /** Where an empty vaultAuthRef points, and where VSO searches the default VaultAuthGlobal. */
  operatorNamespace: string;
  /** Queues an object of `kind` (by `namespace/name`) for a reconcile. */
  requeue: (kind: KindName, key: string) => void;
  /** VSO group mode: VSO's HMAC key, when found (VaultDynamicSecrets VSO synced are taken over). */
  vsoMacKey?: Buffer;
  /** The API group served: ours, or VSO's in VSO group mode. */
  api: ApiGroup;
}

export interface KindWiring {
  /** The kind's controller; `onResult` counts reconciles by result when the row has a metric. */
  controller(
    parts: OperatorParts,
    onResult: (result: string) => void,
  ): { reconcile(key: string): Promise<ReconcileResult> };
  /** Counter of reconciles by `result`. */
  metric?: { name: string; help: string };
  /** What a deleted object releases besides its queue entry and store. */
  onDeleted?(parts: OperatorParts, key: string): void;
}

export const KIND_WIRING: { readonly [K in KindName]: KindWiring } = {
  VaultConnection: {
    controller: (parts) =>
      new ConnectionStatusController('VaultConnection', { ...parts, objects: parts.stores.VaultConnection }),
  },
  VaultAuth: {
    controller: (parts) =>
      new ConnectionStatusController('VaultAuth', {
        ...parts,
        instantUpdates: undefined,
        objects: parts.stores.VaultAuth,
      }),
    onDeleted: (parts, key) => {
      parts.clients
        .forgetVaultAuth(key)
        .catch((error: unknown) =>
          parts.logger.warn(
            { err: error, vaultAuth: key },
            'could not delete the stored tokens of a deleted VaultAuth',
          ),
        );
    },
  },
  VaultAuthGlobal: {
    controller: (parts) =>
      new AuthGlobalStatusController({
        ...parts,
        objects: parts.stores.VaultAuthGlobal,
        vaultAuths: parts.stores.VaultAuth,
        recheckVaultAuth: (key) => parts.requeue('VaultAuth', key),
      }),
    // The VaultAuths that used it are checked again (they now fail, or find the next default).
    onDeleted: (parts, key) => {
      for (const user of vaultAuthsUsing(key, parts.stores.VaultAuth.entries(), parts.operatorNamespace))
        parts.requeue('VaultAuth', user);
    },
  },
  VaultStaticSecret: {
    controller: (parts, onResult) =>
      new StaticSecretController({ ...parts, objects: parts.stores.VaultStaticSecret, onResult }),
    metric: { name: 'vaultbridge_operator_reconciles_total', help: 'VaultStaticSecret reconciles by result.' },
    onDeleted: (parts, key) => parts.instantUpdates.unwatch(key),
  },
  VaultDynamicSecret: {
    controller: (parts, onResult) =>
      new DynamicSecretController({ ...parts, objects: parts.stores.VaultDynamicSecret, onResult }),
    metric: {
      name: 'vaultbridge_operator_dynamic_reconciles_total',
      help: 'VaultDynamicSecret reconciles by result (issued, renewed, unchanged, error).',
    },
  },
  VaultPKISecret: {
    controller: (parts, onResult) =>
      new PkiSecretController({ ...parts, objects: parts.stores.VaultPKISecret, onResult }),
    metric: {
      name: 'vaultbridge_operator_pki_reconciles_total',
      help: 'VaultPKISecret reconciles by result (issued, unchanged, error).',
    },
  },
  SecretTransformation: {
    controller: (parts) => new TransformationStatusController(parts),
  },
};
