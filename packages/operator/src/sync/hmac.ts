import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { goJsonString } from '@vaultbridge/core';

/**
 * The bytes VSO MACs: `json.Marshal(map[string][]byte)`, keys sorted, values as standard base64.
 * Secret `.data` from the API server is already that base64.
 */
export function macInput(base64Data: Record<string, string>): string {
  const keys = Object.keys(base64Data).sort();
  return `{${keys.map((key) => `${goJsonString(key)}:${goJsonString(base64Data[key]!)}`).join(',')}}`;
}

/** A Buffer key makes createHmac build a KeyObject on every call (measurable at 1,000 syncs); made once per key. */
const keyObjects = new WeakMap<Buffer, KeyObject>();

/** HMAC-SHA256 of the data, base64: the value of `status.secretMAC`. */
export function secretMac(key: Buffer, base64Data: Record<string, string>): string {
  let keyObject = keyObjects.get(key);
  if (keyObject === undefined) {
    keyObject = createSecretKey(key);
    keyObjects.set(key, keyObject);
  }
  return createHmac('sha256', keyObject).update(macInput(base64Data)).digest('base64');
}

/**
 * A per-process MAC key: the fallback when the key Secret (startOperator's `macKeySecretName`) cannot
 * be read or created. A restart then makes every MAC differ once: one extra write per secret.
 */
export function newMacKey(): Buffer {
  return randomBytes(16);
}
