// VaultAuthGlobal status: whether its spec is usable (VSO writes `valid` and `error` the same way). The
// VaultAuths that use it merge it in at their own login (vault-clients.ts); when it changes or goes, they
// are checked again, so their Healthy condition follows the global at once.
import { CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import { isConflict, isNotFound, type Logger } from '@vaultbridge/core';
import { OUR_API, SpecError, type ApiGroup } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import {
  parseVaultAuthGlobalSpec,
  vaultAuthGlobalCandidates,
  vaultAuthGlobalRefOf,
  type VaultAuthGlobal,
} from '../api/vault-auth-global.ts';
import { sameConditions, setConditions } from '../runtime/conditions.ts';
import type { LatestObjects } from '../runtime/latest-objects.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import type { StatusObject } from './connection-status.ts';

export interface AuthGlobalStatusOptions {
  kube: KubeJson;
  logger: Logger;
  objects: LatestObjects<VaultAuthGlobal>;
  /** The VaultAuth informer's objects, to find those that use a global. */
  vaultAuths: LatestObjects<StatusObject & { spec?: unknown }>;
  operatorNamespace: string;
  /** Checks a VaultAuth again. */
  recheckVaultAuth: (key: string) => void;
  api?: ApiGroup;
}

/** Keys of the VaultAuths whose spec.vaultAuthGlobalRef resolves (or may resolve, for the default search) to `globalKey`. */
export function vaultAuthsUsing(
  globalKey: string,
  vaultAuths: Iterable<[string, { spec?: unknown }]>,
  operatorNamespace: string,
): string[] {
  const users: string[] = [];
  for (const [key, auth] of vaultAuths) {
    const authNamespace = key.slice(0, key.indexOf('/'));
    try {
      const ref = vaultAuthGlobalRefOf(auth.spec);
      if (ref === undefined) continue;
      const candidates = vaultAuthGlobalCandidates(ref, authNamespace, operatorNamespace);
      if (candidates.some((candidate) => `${candidate.namespace}/${candidate.name}` === globalKey)) users.push(key);
    } catch (error) {
      // A VaultAuth with a bad reference says so in its own status; it uses no global.
      if (!(error instanceof SpecError)) throw error;
    }
  }
  return users;
}

export class AuthGlobalStatusController {
  private readonly custom: CustomApi;
  private readonly options: AuthGlobalStatusOptions;
  private readonly api: ApiGroup;

  constructor(options: AuthGlobalStatusOptions) {
    this.options = options;
    this.api = options.api ?? OUR_API;
    this.custom = new CustomApi(options.kube);
  }

  /** A global changed or went: its VaultAuths are checked again. */
  recheckUsers(globalKey: string): void {
    for (const key of vaultAuthsUsing(globalKey, this.options.vaultAuths.entries(), this.options.operatorNamespace))
      this.options.recheckVaultAuth(key);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    let object = this.options.objects.get(key);
    if (object === undefined)
      try {
        object = (await this.custom.getNamespacedCustomObject({
          group: this.api.group,
          version: this.api.version,
          namespace,
          plural: kinds.VaultAuthGlobal.plural,
          name,
        })) as VaultAuthGlobal;
      } catch (error) {
        if (isNotFound(error)) return {};
        throw error;
      }
    const generation = object.metadata.generation ?? 0;
    let error = '';
    try {
      parseVaultAuthGlobalSpec(object.spec);
    } catch (caught) {
      if (!(caught instanceof SpecError)) throw caught;
      error = caught.message;
      this.options.logger.warn({ kind: 'VaultAuthGlobal', namespace, name, detail: error }, 'invalid VaultAuthGlobal');
    }
    this.recheckUsers(key);
    const before = object.status ?? {};
    const message = error === '' ? 'the spec is usable; VaultAuths that name it merge it in at login' : error;
    const reason = error === '' ? 'Valid' : 'InvalidSpec';
    const status = error === '' ? 'True' : 'False';
    const next = {
      ...before,
      valid: error === '',
      error,
      conditions: setConditions(before.conditions, [
        { type: 'Ready', status, reason, message, observedGeneration: generation },
        { type: 'Healthy', status, reason, message, observedGeneration: generation },
      ]),
    };
    if (
      before.valid === next.valid &&
      before.error === next.error &&
      sameConditions(before.conditions, next.conditions)
    )
      return {};
    try {
      const written = (await this.custom.replaceNamespacedCustomObjectStatus({
        group: this.api.group,
        version: this.api.version,
        namespace,
        plural: kinds.VaultAuthGlobal.plural,
        name,
        body: { ...object, status: next },
      })) as VaultAuthGlobal;
      this.options.objects.written(key, written);
    } catch (writeError) {
      if (isConflict(writeError)) return { requeueAfterMs: 200 };
      if (!isNotFound(writeError)) throw writeError;
    }
    return {};
  }
}
