// SecretTransformation status: whether its templates compile and its regexes parse (VSO validates the
// same way). Objects that reference it read it at their own sync; this only reports.
import { CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import type { Logger } from '@vaultbridge/core';
import { OUR_API, SpecError, type ApiGroup } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import { parseSecretTransformationSpec, type SecretTransformation } from '../api/secret-transformation.ts';
import { sameConditions, setConditions } from '../runtime/conditions.ts';
import type { ReconcileResult } from '../runtime/queue.ts';
import { isConflict, isNotFound } from '@vaultbridge/core';
import { getSyncedObject } from './shared.ts';

export class TransformationStatusController {
  private readonly custom: CustomApi;
  private readonly logger: Logger;
  private readonly api: ApiGroup;

  constructor(options: { kube: KubeJson; logger: Logger; api?: ApiGroup }) {
    this.custom = new CustomApi(options.kube);
    this.logger = options.logger;
    this.api = options.api ?? OUR_API;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/') as [string, string];
    const object = await getSyncedObject<SecretTransformation>(
      this.custom,
      kinds.SecretTransformation.plural,
      namespace,
      name,
      this.api,
    );
    if (object === undefined) return {};
    const generation = object.metadata.generation ?? 0;
    let error = '';
    try {
      parseSecretTransformationSpec(object.spec);
    } catch (caught) {
      if (!(caught instanceof SpecError)) throw caught;
      error = caught.message;
      this.logger.warn(
        { kind: 'SecretTransformation', namespace, name, detail: error },
        'invalid SecretTransformation',
      );
    }
    const before = object.status ?? {};
    const status = {
      ...before,
      valid: error === '',
      error,
      conditions: setConditions(before.conditions, [
        error === ''
          ? {
              type: 'Ready',
              status: 'True',
              reason: 'Valid',
              message: 'templates compile and regexes parse',
              observedGeneration: generation,
            }
          : { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: error, observedGeneration: generation },
      ]),
    };
    if (
      before.valid === status.valid &&
      before.error === status.error &&
      sameConditions(before.conditions, status.conditions)
    )
      return {};
    try {
      await this.custom.replaceNamespacedCustomObjectStatus({
        group: this.api.group,
        version: this.api.version,
        namespace,
        plural: kinds.SecretTransformation.plural,
        name,
        body: { ...object, status },
      });
    } catch (writeError) {
      if (isConflict(writeError)) return { requeueAfterMs: 200 };
      if (!isNotFound(writeError)) throw writeError;
    }
    return {};
  }
}
