// How the agents reach and log in to Vault: address, TLS, namespace, auth method and role.

import type { InjectorDefaults } from './defaults.ts';
import { withoutUndefined } from './compact.ts';
import type { AnnotationReader } from './reader.ts';
import { AUTH_TYPES, type AuthSpec, type AuthType, type VaultConnectionSpec } from './spec.ts';
import { A } from './table.ts';
import { parseBool, parseChoice, parseGoDuration, parseHttpUrl, parseInteger, parseNonEmpty, parseTimeout, type Parsed } from './values.ts';

/** Base64 PEM is accepted as upstream does (`-vault-cacert-bytes`). */
function caCertPem(bytes: string | undefined): string | undefined {
  if (bytes === undefined || bytes.trim() === '') return undefined;
  if (bytes.includes('-----BEGIN')) return bytes;
  const decoded = Buffer.from(bytes, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : bytes;
}

export function readVault(reader: AnnotationReader, defaults: InjectorDefaults): VaultConnectionSpec {
  const address = reader.parse(A.service, parseHttpUrl);
  if (reader.find(A.service) === undefined) {
    reader.issues.push({
      annotation: A.service,
      source: 'flag',
      message: 'no Vault address: set this annotation on the pod or the injector\'s --vault-addr (AGENT_INJECT_VAULT_ADDR)',
    });
  }
  const optional = (name: string): string | undefined => reader.nonEmpty(name)?.trim();
  const vault: VaultConnectionSpec = {
    address: address ?? '',
    namespace: optional(A.namespace),
    proxyAddress: optional(A.proxyAddress),
    caCert: optional(A.caCert),
    caPath: optional(A.caKey),
    caCertPem: caCertPem(defaults.vaultCACertBytes),
    clientCert: optional(A.clientCert),
    clientKey: optional(A.clientKey),
    tlsSkipVerify: reader.parse(A.tlsSkipVerify, parseBool) ?? false,
    tlsServerName: optional(A.tlsServerName),
    maxRetries: reader.parseOptional(A.clientMaxRetries, (raw) => parseInteger(raw, 0, 100)),
    timeoutMs: reader.parseOptional(A.clientTimeout, parseTimeout),
  };
  return withoutUndefined(vault);
}

export function readAuth(reader: AnnotationReader, usesConfigMap: boolean): AuthSpec {
  const type = reader.parse(A.authType, (raw): Parsed<AuthType> => {
    const choice = parseChoice(raw, AUTH_TYPES);
    return typeof choice === 'string' ? choice : { rejected: true, expected: `one of ${AUTH_TYPES.join(', ')} (the auto-auth methods the vaultbridge agent implements)` };
  });
  const mountPath = reader.parse(A.authPath, parseNonEmpty)?.replace(/^\/+|\/+$/g, '');
  const config: Record<string, string> = {};
  const prefix = `${A.authConfig}-`;
  for (const [name, value] of reader.podWithPrefix(prefix)) config[name.slice(prefix.length).replaceAll('-', '_')] = value;
  const role = reader.nonEmpty(A.role)?.trim() ?? (config.role?.trim() || undefined);
  if (!usesConfigMap) {
    if ((type ?? 'kubernetes') === 'approle') {
      // Vault Agent's approle method: the role_id (and usually the secret_id) come from files, e.g. an
      // agent-extra-secret mounted at /vault/custom.
      if (!config.role_id_file_path?.trim()) reader.fail(`${A.authConfig}-role-id-file-path`, 'required with auth-type approle: the file holding the role_id, such as /vault/custom/role-id (mount it with agent-extra-secret)');
      for (const param of ['role_id_file_path', 'secret_id_file_path'] as const) {
        const value = config[param]?.trim();
        if (value && (!value.startsWith('/') || value.split('/').includes('..'))) reader.fail(`${A.authConfig}-${param.replaceAll('_', '-')}`, `expected an absolute file path such as /vault/custom/${param.startsWith('role') ? 'role-id' : 'secret-id'}`);
      }
    } else if ((type ?? 'kubernetes') === 'cert') {
      // Vault Agent's cert method: `name` (the certificate role) is optional, and the client certificate
      // is the vault stanza's (client-cert, client-key) unless the method names its own.
      for (const param of ['client_cert', 'client_key', 'ca_cert'] as const) {
        const value = config[param]?.trim();
        if (value && (!value.startsWith('/') || value.split('/').includes('..'))) reader.fail(`${A.authConfig}-${param.replaceAll('_', '-')}`, 'expected an absolute file path such as /vault/tls/client.crt');
      }
      const ownPair = (config.client_cert?.trim() ? 1 : 0) + (config.client_key?.trim() ? 1 : 0);
      if (ownPair === 1) reader.fail(`${A.authConfig}-client-cert`, `give both ${A.authConfig}-client-cert and ${A.authConfig}-client-key, or neither (then client-cert and client-key are used)`);
      else if (ownPair === 0 && (reader.nonEmpty(A.clientCert) === undefined || reader.nonEmpty(A.clientKey) === undefined)) {
        reader.fail(A.clientCert, 'required with auth-type cert: the TLS client certificate and key (client-cert and client-key, e.g. from a tls-secret mounted at /vault/tls) are the credential');
      }
    } else if (role === undefined) {
      reader.fail(A.role, `required: the Vault role to log in with (or ${A.authConfig}-role)`);
    }
  }
  const minBackoffMs = reader.parseOptional(A.authMinBackoff, parseGoDuration);
  const maxBackoffMs = reader.parseOptional(A.authMaxBackoff, parseGoDuration);
  const auth: AuthSpec = {
    type: type ?? 'kubernetes',
    mountPath: mountPath ?? 'auth/kubernetes',
    role,
    config,
    minBackoffMs,
    maxBackoffMs,
    exitOnError: reader.parse(A.agentAutoAuthExitOnErr, parseBool) ?? false,
  };
  return withoutUndefined(auth);
}
