// Which Vault addresses a VaultConnection may name, as the cluster admin configured it. The operator
// sends service-account tokens and Vault tokens to that address on a tenant's behalf, so a tenant must
// not be able to point it anywhere (an attacker's server would collect the tokens).
import { parseVaultAddress } from '@vaultbridge/core';

export class VaultAddressNotAllowedError extends Error {
  readonly code = 'VAULT_ADDRESS_NOT_ALLOWED';
}

export class VaultAddressPolicy {
  /** Normalized allowed addresses; empty means any address (no allow-list configured). */
  readonly #allowed: ReadonlySet<string>;
  readonly #shown: readonly string[];

  /** `entries`: Vault addresses (`https://vault.vault.svc:8200`, `unix:///path`); invalid ones throw naming `setting`. */
  constructor(entries: readonly string[], setting = '--allowed-vault-addresses') {
    const cleaned = entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
    this.#allowed = new Set(cleaned.map((entry) => normalize(entry, setting)));
    this.#shown = cleaned;
  }

  /** Whether any address is allowed (no allow-list). */
  get unrestricted(): boolean {
    return this.#allowed.size === 0;
  }

  /**
   * Throws when `address` is not on the list. Scheme, host, port (default ports included) and path
   * prefix must match an entry exactly: `https://vault:8200` does not allow `http://vault:8200` or
   * `https://vault:8201`.
   */
  check(address: string, field: string): void {
    if (this.unrestricted) return;
    if (this.#allowed.has(normalize(address, field))) return;
    throw new VaultAddressNotAllowedError(
      `${field}: "${address}" is not among the Vault addresses the operator is allowed to use (${this.#shown.join(', ')}); ` +
        'use one of them, or ask the cluster admin to add it (chart value operator.allowedVaultAddresses)',
    );
  }
}

function normalize(address: string, setting: string): string {
  const parsed = parseVaultAddress(address, setting);
  return parsed.socketPath ? `unix://${parsed.socketPath}` : parsed.apiBaseUrl;
}
