// VaultPKISecret: a certificate issued by a Vault PKI role into a Secret, re-issued before it expires.
// The spec and status are described once in zod: type, parser and CRD schema come from them
// (kind-schema.ts). Field names and defaults are VSO's (§1.6 of the reference).
import { pkiIssueBody as issueBody, pkiIssuePath as issuePath, type IssueCertificateOptions } from '@vaultbridge/core';
import * as z from 'zod/mini';
import { SpecError, type Condition, type ObjectMeta } from './common.ts';
import {
  described,
  parseSpec,
  statusStructuralSchema,
  structuralSchema,
  transformed,
  type KindSchema,
} from './kind-schema.ts';
import {
  destinationSchema,
  given,
  int64,
  lastForceSyncField,
  lastGenerationField,
  optionalText,
  requiredText,
  rolloutRestartTargetsSchema,
  secretMacField,
  stringList,
  vaultAuthRefField,
  vaultNamespaceField,
  vaultPath,
  withoutEmpty,
} from './sync-target.ts';

/** VSO's pattern for `ttl` and `expiryOffset`: Go durations, plus days. */
export const PKI_DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(s|m|h|d))$';
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `12h`, `7d` → milliseconds. */
export function parsePkiDuration(raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const text = String(raw);
  if (typeof raw !== 'string' || !new RegExp(PKI_DURATION_PATTERN).test(text))
    throw new SpecError(field, `"${text}" is not a duration like 30s, 12h or 7d`);
  return Math.round(Number.parseFloat(text) * UNIT_MS[text.slice(-1)]!);
}

const pkiDuration = (description: string) =>
  described(
    z.optional(
      z
        .string({ error: 'expected a duration like 30s, 12h or 7d' })
        .check(z.regex(new RegExp(PKI_DURATION_PATTERN), { error: 'expected a duration like 30s, 12h or 7d' })),
    ),
    description,
  );

/** A role or issuer name: one path segment Vault takes as is. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NOT_AFTER = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const sans = (what: string, item: string) =>
  transformed(stringList(`${what}; sent comma-joined.`, item), (list) => list ?? []);
const flag = (description: string) =>
  described(z._default(z.boolean({ error: 'expected true or false' }), false), description);

export const vaultPkiSecretSpecSchema = transformed(
  described(
    z.object(
      {
        vaultAuthRef: vaultAuthRefField,
        namespace: vaultNamespaceField,
        mount: vaultPath('the PKI mount', 'PKI secrets engine mount, e.g. pki.'),
        role: requiredText('the PKI role', 'PKI role to issue with (<mount>/issue/<role>).').check(
          z.refine((role) => SAFE_SEGMENT.test(role), {
            error: (issue) => `"${String(issue.input)}" is not a PKI role name`,
            ...given,
          }),
        ),
        issuerRef: optionalText(
          "Issuer name or id to issue with (<mount>/issuer/<ref>/issue/<role>); the mount's default issuer when empty.",
        ).check(
          z.refine((ref) => !ref || SAFE_SEGMENT.test(ref), {
            error: (issue) => `"${String(issue.input)}" is not an issuer name or id`,
            ...given,
          }),
        ),
        revoke: flag('Revoke the certificate when this object is deleted, and the previous one at each rotation.'),
        clear: flag('On deletion, empty the data of the Secret when this object did not create it.'),
        expiryOffset: pkiDuration(
          'Re-issue this long before the certificate expires, e.g. 1h or 2d; unset: at two thirds of its lifetime.',
        ),
        commonName: optionalText('Common name (CN) of the certificate.'),
        altNames: sans('DNS subject alternative names', 'A DNS name.'),
        ipSans: sans('IP subject alternative names', 'An IP address.'),
        uriSans: sans('URI subject alternative names', 'A URI.'),
        otherSans: sans('Other SANs, each <oid>;<type>:<value>', 'An other SAN.'),
        userIDs: sans('User ids (the UID attribute of the subject)', 'A user id.'),
        ttl: pkiDuration("Requested lifetime, e.g. 24h or 7d (capped by the role); the role's default when unset."),
        format: described(
          z.optional(z.enum(['pem', 'der', 'pem_bundle'], { error: 'expected one of pem, der, pem_bundle' })),
          "Encoding of the certificate: pem, der or pem_bundle; Vault's default (pem) when unset.",
        ),
        privateKeyFormat: optionalText("Encoding of the private key, e.g. pkcs8; Vault's default when empty."),
        notAfter: optionalText('Expiry as YYYY-MM-ddTHH:MM:SSZ, instead of ttl.').check(
          z.refine((value) => !value || NOT_AFTER.test(value), {
            error: (issue) => `"${String(issue.input)}" is not YYYY-MM-ddTHH:MM:SSZ`,
            ...given,
          }),
        ),
        excludeCNFromSans: flag('Leave the common name out of the DNS and email SANs.'),
        rolloutRestartTargets: rolloutRestartTargetsSchema,
        destination: destinationSchema,
      },
      { error: 'expected an object' },
    ),
    'Which PKI role issues the certificate, what it holds, when to re-issue, and where to write it.',
  ),
  (spec) => ({
    ...withoutEmpty({ vaultAuthRef: spec.vaultAuthRef, namespace: spec.namespace }),
    mount: spec.mount,
    role: spec.role,
    ...withoutEmpty({ issuerRef: spec.issuerRef }),
    revoke: spec.revoke,
    clear: spec.clear,
    ...(spec.expiryOffset ? { expiryOffsetMs: parsePkiDuration(spec.expiryOffset, 'spec.expiryOffset')! } : {}),
    ...withoutEmpty({ commonName: spec.commonName }),
    altNames: spec.altNames,
    ipSans: spec.ipSans,
    uriSans: spec.uriSans,
    otherSans: spec.otherSans,
    userIDs: spec.userIDs,
    ...withoutEmpty({
      ttl: spec.ttl,
      format: spec.format,
      privateKeyFormat: spec.privateKeyFormat,
      notAfter: spec.notAfter,
    }),
    excludeCNFromSans: spec.excludeCNFromSans,
    destination: spec.destination,
    rolloutRestartTargets: spec.rolloutRestartTargets,
  }),
);

export type VaultPkiSecretSpec = z.output<typeof vaultPkiSecretSpecSchema>;

export const vaultPkiSecretStatusSchema = described(
  z.object({
    lastGeneration: lastGenerationField,
    serialNumber: described(z.optional(z.string()), 'Serial number of the certificate in the Secret.'),
    expiration: int64('Unix seconds at which the certificate in the Secret expires.'),
    lastRotation: int64('Unix seconds of the last issue.'),
    secretMAC: secretMacField,
    valid: described(z.optional(z.boolean()), 'Whether the last sync succeeded (VSO status field).'),
    error: described(z.optional(z.string()), 'Why the last sync failed, when it did.'),
    lastForceSync: lastForceSyncField,
  }),
  'What the operator last issued, written by it.',
);

export type VaultPkiSecretStatus = z.output<typeof vaultPkiSecretStatusSchema> & { conditions?: Condition[] };

export interface VaultPkiSecret {
  apiVersion: string;
  kind: 'VaultPKISecret';
  metadata: ObjectMeta & { finalizers?: string[] };
  spec: unknown;
  status?: VaultPkiSecretStatus;
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const vaultPkiSecretSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(vaultPkiSecretSpecSchema),
    status: statusStructuralSchema(vaultPkiSecretStatusSchema),
  },
});

export function parseVaultPkiSecretSpec(raw: unknown): VaultPkiSecretSpec {
  return parseSpec(vaultPkiSecretSpecSchema, raw);
}

/**
 * What to ask core's issueCertificate for, as VSO's GetIssuerAPIData: lists comma-joined, optional
 * fields only when set, roots removed from the chain. With an issuerRef the path is
 * `<mount>/issuer/<ref>/issue/<role>` (VSO 1.4.1 left out `/issue/`; fixed upstream in #1336).
 */
export function pkiIssueOptions(spec: VaultPkiSecretSpec): IssueCertificateOptions {
  return {
    mount: spec.mount,
    role: spec.role,
    ...(spec.issuerRef ? { issuerRef: spec.issuerRef } : {}),
    ...(spec.commonName ? { commonName: spec.commonName } : {}),
    altNames: spec.altNames,
    ipSans: spec.ipSans,
    uriSans: spec.uriSans,
    otherSans: spec.otherSans,
    userIds: spec.userIDs,
    ...(spec.ttl ? { ttl: spec.ttl } : {}),
    ...(spec.notAfter ? { notAfter: spec.notAfter } : {}),
    excludeCnFromSans: spec.excludeCNFromSans,
    ...(spec.format ? { format: spec.format } : {}),
    ...(spec.privateKeyFormat ? { privateKeyFormat: spec.privateKeyFormat } : {}),
    removeRootsFromChain: true,
  };
}

/** Vault's issue path for the spec (core's pkiIssuePath). */
export function pkiIssuePath(spec: VaultPkiSecretSpec): string {
  return issuePath(pkiIssueOptions(spec));
}

/** The request body for the spec, as core's issueCertificate sends it (what `migrate` puts in CSI secretArgs). */
export function pkiIssueBody(spec: VaultPkiSecretSpec): Record<string, unknown> {
  return issueBody(pkiIssueOptions(spec));
}
