// VSO kinds that cannot work here, why, and what to use instead: one table, read by `convert` (which
// leaves them out with this reason) and by the operator in VSO group mode (which finds their objects
// and says so on each, guards/vso-unsupported-objects.ts). Neither ever acts on such an object.

export interface UnsupportedVsoKind {
  kind: string;
  plural: string;
  /** Why Vaultbridge cannot serve it. */
  why: string;
  /** What to use instead. */
  instead: string;
}

const HCP_WHY =
  "HCP Vault Secrets is HashiCorp Cloud Platform's own secrets service (a SaaS with its own API and service-principal login), which Vaultbridge does not talk to";
const HCP_INSTEAD =
  'move the secrets into Vault (KV v2) and sync them with a VaultStaticSecret, or keep these objects with VSO in a cluster that runs VSO';

export const UNSUPPORTED_VSO_KINDS: readonly UnsupportedVsoKind[] = [
  { kind: 'HCPAuth', plural: 'hcpauths', why: HCP_WHY, instead: HCP_INSTEAD },
  { kind: 'HCPVaultSecretsApp', plural: 'hcpvaultsecretsapps', why: HCP_WHY, instead: HCP_INSTEAD },
  {
    kind: 'CSISecrets',
    plural: 'csisecrets',
    why: "it configures VSO's own CSI driver (csi.vso.hashicorp.com, Vault Enterprise), which is not installed once VSO is gone",
    instead:
      'a SecretProviderClass for the Secrets Store CSI driver with the Vaultbridge CSI provider (provider: vault); `vaultbridge-migrate --to csi` converts the workloads',
  },
];

/** The row of `kind`, or undefined when Vaultbridge serves it (or does not know it). */
export function unsupportedVsoKind(kind: string): UnsupportedVsoKind | undefined {
  return UNSUPPORTED_VSO_KINDS.find((row) => row.kind === kind);
}

/** One sentence for a person: what is not served, why, and what to use instead. */
export function unsupportedMessage(row: UnsupportedVsoKind): string {
  return `${row.kind} is not supported by Vaultbridge: ${row.why}. Use instead: ${row.instead}`;
}
