// Keeps a VaultAuth's Vault token across operator restarts, when the VaultAuth asks for it with
// spec.storageEncryption {mount, keyName}: the token is encrypted with Vault transit (by itself, at
// login) and stored in a Secret in the operator namespace. The next process decrypts it and, when
// Vault still accepts it, uses it instead of logging in, so the leases that token owns (every
// VaultDynamicSecret's credentials) live on and nothing is re-issued. This is VSO's answer
// (`direct-encrypted` client cache), with the transit key named on the VaultAuth it protects.
import { createHash } from 'node:crypto';
import { CoreApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import {
  revokeSelfToken,
  transitDecrypt,
  transitEncrypt,
  type Logger,
  type VaultAuthMethod,
  type VaultClient,
} from '@vaultbridge/core';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../sync/destination.ts';
import { isConflict, isNotFound } from '@vaultbridge/core';

export const TOKEN_STORAGE_PREFIX = 'vaultbridge-cc-';
const COMPONENT_LABEL = 'app.kubernetes.io/component';
const COMPONENT = 'client-cache-storage';
/** Which client (VaultAuth and service-account namespace) a stored token belongs to: older keys of it are pruned. */
const CLIENT_LABEL = 'secrets.vaultbridge.dev/client';
/** Which VaultAuth: its deletion deletes its stored tokens. */
const VAULT_AUTH_LABEL = 'secrets.vaultbridge.dev/vault-auth';

/** A label value (≤ 63 characters) standing for `text`. */
const labelFor = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 40);

export interface StorageEncryption {
  mount: string;
  keyName: string;
}

/** What one client's storage needs: where, with which key, and how to log in for a decryption. */
export interface StoredClient {
  /** `authNamespace/authName|namespace`: one client of the factory. */
  slotKey: string;
  /** `authNamespace/authName`. */
  authKey: string;
  cacheKey: string;
  encryption: StorageEncryption;
}

export class TokenStorage {
  private readonly core: CoreApi;
  private readonly namespace: string;
  private readonly logger: Logger;

  constructor(options: { kube: KubeJson; namespace: string; logger: Logger }) {
    this.core = new CoreApi(options.kube);
    this.namespace = options.namespace;
    this.logger = options.logger;
  }

  secretName(cacheKey: string): string {
    return `${TOKEN_STORAGE_PREFIX}${cacheKey}`;
  }

  /**
   * The token kept for `stored`, decrypted; undefined when none is kept. Decrypting needs a token of
   * its own: a short login with the same VaultAuth (it owns no leases), revoked right after.
   */
  async restore(stored: StoredClient, client: VaultClient, auth: VaultAuthMethod): Promise<string | undefined> {
    let ciphertext: string | undefined;
    try {
      const secret = await this.core.readNamespacedSecret({
        namespace: this.namespace,
        name: this.secretName(stored.cacheKey),
      });
      ciphertext =
        secret.data?.ciphertext === undefined
          ? undefined
          : Buffer.from(secret.data.ciphertext, 'base64').toString('utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    if (!ciphertext) return undefined;
    const login = await auth.login(client);
    const decrypting = client.withToken(login.clientToken);
    try {
      const plaintext = await transitDecrypt(decrypting, ciphertext, {
        mount: stored.encryption.mount,
        key: stored.encryption.keyName,
      });
      return plaintext.toString('utf8');
    } finally {
      await revokeSelfToken(decrypting).catch((error: unknown) =>
        this.logger.debug({ err: error }, 'could not revoke the decryption token; it expires on its own'),
      );
    }
  }

  /** Encrypts `token` with itself and stores it, replacing what was kept for this client before. */
  async persist(stored: StoredClient, client: VaultClient, token: string): Promise<void> {
    const ciphertext = await transitEncrypt(client.withToken(token), token, {
      mount: stored.encryption.mount,
      key: stored.encryption.keyName,
    });
    const name = this.secretName(stored.cacheKey);
    const clientLabel = labelFor(stored.slotKey);
    const body = {
      metadata: {
        name,
        namespace: this.namespace,
        labels: {
          [MANAGED_BY_LABEL]: MANAGED_BY,
          [COMPONENT_LABEL]: COMPONENT,
          [CLIENT_LABEL]: clientLabel,
          [VAULT_AUTH_LABEL]: labelFor(stored.authKey),
        },
        annotations: {
          'secrets.vaultbridge.dev/client': stored.slotKey,
          'secrets.vaultbridge.dev/transit': `${stored.encryption.mount}/keys/${stored.encryption.keyName}`,
        },
      },
      type: 'Opaque',
      data: { ciphertext: Buffer.from(ciphertext, 'utf8').toString('base64') },
    };
    try {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body });
    } catch (error) {
      if (!isConflict(error)) throw error;
      await this.core.replaceNamespacedSecret({ namespace: this.namespace, name, body });
    }
    // The same client under an older cache key (its VaultAuth or VaultConnection changed since): gone for good.
    const list = await this.core.listNamespacedSecret({
      namespace: this.namespace,
      labelSelector: `${COMPONENT_LABEL}=${COMPONENT},${CLIENT_LABEL}=${clientLabel}`,
    });
    for (const old of list.items) {
      if (old.metadata?.name && old.metadata.name !== name) {
        await this.core
          .deleteNamespacedSecret({ namespace: this.namespace, name: old.metadata.name })
          .catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
      }
    }
    this.logger.info(
      { secret: `${this.namespace}/${name}`, client: stored.slotKey },
      'Vault token stored, encrypted with transit',
    );
  }

  /** Deletes every token stored for the VaultAuth `authKey` (`namespace/name`), e.g. once it is deleted. */
  async forgetVaultAuth(authKey: string): Promise<number> {
    const list = await this.core.listNamespacedSecret({
      namespace: this.namespace,
      labelSelector: `${COMPONENT_LABEL}=${COMPONENT},${VAULT_AUTH_LABEL}=${labelFor(authKey)}`,
    });
    for (const secret of list.items) {
      if (!secret.metadata?.name) continue;
      await this.core
        .deleteNamespacedSecret({ namespace: this.namespace, name: secret.metadata.name })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
    }
    if (list.items.length > 0)
      this.logger.info(
        { vaultAuth: authKey, deleted: list.items.length },
        'VaultAuth deleted: its stored Vault tokens are deleted',
      );
    return list.items.length;
  }
}
