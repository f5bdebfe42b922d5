// VSO's HMAC key, read (never written) in VSO group mode so the objects VSO synced are taken over
// without new credentials. VSO MACs the destination data exactly as we do (sync/hmac.ts) but with its own
// key: 16 random bytes under data key `key` of the immutable Secret `vso-cc-storage-hmac-key` in VSO's
// namespace (VSO 1.4.1: vault/cache_storage.go DefaultClientCacheStorageConfig, helpers/hmac.go).
// `helm uninstall` of VSO leaves that Secret behind. With the key, a VaultDynamicSecret whose
// `status.secretMAC` VSO wrote can be checked against its Secret, and its lease kept.
import { CoreApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import { isNotFound, type Logger } from '@vaultbridge/core';
import type { ObjectRef } from '../api/common.ts';

/** VSO's default: `vso-cc-` + `storage-hmac-key`, in the namespace VSO ran in. */
export const VSO_HMAC_KEY_SECRET = 'vso-cc-storage-hmac-key';
/** The data key VSO keeps it under, and its length (VSO refuses any other). */
export const VSO_HMAC_KEY_FIELD = 'key';
export const VSO_HMAC_KEY_BYTES = 16;

/** The labels VSO puts on it (helpers/hmac.go hmacSecretLabels): how it is found when not named. */
export const VSO_HMAC_KEY_SELECTOR =
  'app.kubernetes.io/component=client-cache-storage-verification,app.kubernetes.io/managed-by=hashicorp-vso';

/** `name` or `namespace/name` (a bare name is in `defaultNamespace`). */
export function vsoMacKeyRef(value: string, defaultNamespace: string): ObjectRef {
  const [first, second] = value.split('/', 2);
  return second === undefined ? { namespace: defaultNamespace, name: first! } : { namespace: first!, name: second };
}

/**
 * Where VSO's key is: `configured` (`[namespace/]name`, a bare name in the operator namespace), else the
 * one Secret in the cluster with VSO's labels for it (VSO ran in a namespace of its own). Undefined, and
 * said why, when there is none or more than one.
 */
export async function locateVsoMacKey(
  kube: KubeJson,
  configured: string | undefined,
  operatorNamespace: string,
  logger: Logger,
): Promise<ObjectRef | undefined> {
  if (configured !== undefined && configured !== '') return vsoMacKeyRef(configured, operatorNamespace);
  try {
    const list = await new CoreApi(kube).listSecretForAllNamespaces({ labelSelector: VSO_HMAC_KEY_SELECTOR });
    const found = list.items.map((secret) => ({
      namespace: secret.metadata?.namespace ?? '',
      name: secret.metadata?.name ?? '',
    }));
    if (found.length === 1) return found[0];
    logger.info(
      { found: found.map((ref) => `${ref.namespace}/${ref.name}`) },
      found.length === 0
        ? `no VSO HMAC key Secret (labels ${VSO_HMAC_KEY_SELECTOR}); ${COST}`
        : `several VSO HMAC key Secrets; name the one of the VSO that ran here with --vso-hmac-key-secret; until then ${COST}`,
    );
  } catch (error) {
    logger.warn({ err: error }, `cannot look for VSO's HMAC key Secret; ${COST}`);
  }
  return undefined;
}

const COST = 'VaultDynamicSecrets VSO synced get new credentials once (their status.secretMAC cannot be checked)';

/**
 * VSO's HMAC key from the Secret `ref`, or undefined (logged: what was missing, and what it costs) when
 * there is none or it is not VSO's shape. The key itself is never logged.
 */
export async function loadVsoMacKey(kube: KubeJson, ref: ObjectRef, logger: Logger): Promise<Buffer | undefined> {
  const where = `Secret ${ref.namespace}/${ref.name}`;
  const cost = COST;
  try {
    const secret = await new CoreApi(kube).readNamespacedSecret(ref);
    const encoded = secret.data?.[VSO_HMAC_KEY_FIELD];
    const key = encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
    if (key === undefined || key.length !== VSO_HMAC_KEY_BYTES) {
      logger.warn(
        { secret: where },
        `VSO's HMAC key Secret has no ${VSO_HMAC_KEY_BYTES}-byte key under data.${VSO_HMAC_KEY_FIELD}, so it is not used; ${cost}`,
      );
      return undefined;
    }
    logger.info({ secret: where }, "VSO's HMAC key found: objects VSO synced are taken over without new credentials");
    return key;
  } catch (error) {
    if (isNotFound(error)) {
      logger.info({ secret: where }, `no VSO HMAC key Secret (set --vso-hmac-key-secret to where VSO ran); ${cost}`);
      return undefined;
    }
    logger.warn({ err: error, secret: where }, `cannot read VSO's HMAC key Secret; ${cost}`);
    return undefined;
  }
}
