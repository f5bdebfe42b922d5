// Transit secrets engine: encryption as a service. Vault wants plaintext and context base64-encoded;
// callers give and get bytes or strings.
import type { VaultClient } from './client.ts';
import { VaultProtocolError } from './errors.ts';

export interface TransitKeyOptions {
  /** Transit mount. Default `transit`. */
  mount?: string;
  key: string;
  /** Key-derivation context (derived keys only). */
  context?: string | Uint8Array;
  signal?: AbortSignal;
}

function base64(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64');
}

function keyPath(options: TransitKeyOptions, operation: 'encrypt' | 'decrypt'): string {
  return `${(options.mount ?? 'transit').replace(/^\/+|\/+$/g, '')}/${operation}/${options.key}`;
}

/** `POST <mount>/encrypt/<key>`: returns Vault's ciphertext (`vault:v1:…`). */
export async function transitEncrypt(
  client: VaultClient,
  plaintext: string | Uint8Array,
  options: TransitKeyOptions & { keyVersion?: number },
): Promise<string> {
  const path = keyPath(options, 'encrypt');
  const response = await client.write<{ ciphertext: string }>(
    path,
    {
      plaintext: base64(plaintext),
      ...(options.context === undefined ? {} : { context: base64(options.context) }),
      ...(options.keyVersion === undefined ? {} : { key_version: options.keyVersion }),
    },
    options.signal ? { signal: options.signal } : {},
  );
  const ciphertext = response?.data?.ciphertext;
  if (!ciphertext)
    throw new VaultProtocolError(`Vault's answer to POST ${path} holds no ciphertext`, { method: 'POST', path });
  return ciphertext;
}

/** `POST <mount>/decrypt/<key>`: returns the plaintext bytes (`.toString('utf8')` for text). */
export async function transitDecrypt(
  client: VaultClient,
  ciphertext: string,
  options: TransitKeyOptions,
): Promise<Buffer> {
  const path = keyPath(options, 'decrypt');
  const response = await client.write<{ plaintext: string }>(
    path,
    {
      ciphertext,
      ...(options.context === undefined ? {} : { context: base64(options.context) }),
    },
    options.signal ? { signal: options.signal } : {},
  );
  if (response === null)
    throw new VaultProtocolError(`Vault answered POST ${path} without a body`, { method: 'POST', path });
  // An empty plaintext comes back as "" or without the field; both mean zero bytes.
  return Buffer.from(response.data?.plaintext ?? '', 'base64');
}
