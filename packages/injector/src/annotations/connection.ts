// How the agents reach and log in to Vault: address, TLS, namespace, auth method and role.

import type { InjectorDefaults } from './defaults.ts';
import { withoutUndefined } from './compact.ts';
import type { AnnotationReader } from './reader.ts';
import {
  AGENT_KINDS,
  AUTH_TYPES,
  VAULT_AGENT_AUTH_TYPES,
  type AgentKind,
  type AuthSpec,
  type VaultAgentAuthType,
  type VaultConnectionSpec,
} from './spec.ts';
import { A } from './table.ts';
import { parseChoice, type Parsed } from '@vaultbridge/agent/contract';
import {
  boolValue,
  goDurationValue,
  httpUrlValue,
  integerValue,
  nonEmptyValue,
  timeoutValue,
  valueSyntax,
  type ValueSchema,
} from './values.ts';

const maxRetriesValue = integerValue(0, 100);

/** The auth-type schema of each agent kind: the methods that agent implements, and a hint at the others. */
const authTypeValues = Object.fromEntries(
  AGENT_KINDS.map((agentKind) => {
    const accepted: readonly VaultAgentAuthType[] = agentKind === 'vault' ? VAULT_AGENT_AUTH_TYPES : AUTH_TYPES;
    const schema = valueSyntax((raw): Parsed<VaultAgentAuthType> => {
      const choice = parseChoice(raw, accepted);
      if (typeof choice === 'string') return choice;
      const more =
        agentKind === 'vault'
          ? ''
          : `; with agent-kind vault also ${VAULT_AGENT_AUTH_TYPES.filter((t) => !accepted.includes(t)).join(', ')}`;
      return {
        rejected: true,
        expected: `one of ${accepted.join(', ')} (the auto-auth methods ${agentKind === 'vault' ? 'Vault Agent 1.13 has' : 'the vaultbridge agent implements'})${more}`,
      };
    });
    return [agentKind, schema];
  }),
) as Record<AgentKind, ValueSchema<VaultAgentAuthType>>;

/** Base64 PEM is accepted as upstream does (`-vault-cacert-bytes`). */
function caCertPem(bytes: string | undefined): string | undefined {
  if (bytes === undefined || bytes.trim() === '') return undefined;
  if (bytes.includes('-----BEGIN')) return bytes;
  const decoded = Buffer.from(bytes, 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? decoded : bytes;
}

/** Methods whose role is checked here; Vault Agent's others (alicloud, cf, kerberos, oci, token_file) pass through as in vault-k8s. */
function isRoleMethod(type: VaultAgentAuthType): boolean {
  return type === 'kubernetes' || type === 'jwt';
}

export function readVault(reader: AnnotationReader, defaults: InjectorDefaults): VaultConnectionSpec {
  const address = reader.parse(A.service, httpUrlValue);
  if (reader.find(A.service) === undefined) {
    reader.issues.push({
      annotation: A.service,
      source: 'flag',
      message:
        "no Vault address: set this annotation on the pod or the injector's --vault-addr (AGENT_INJECT_VAULT_ADDR)",
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
    tlsSkipVerify: reader.parse(A.tlsSkipVerify, boolValue) ?? false,
    tlsServerName: optional(A.tlsServerName),
    maxRetries: reader.parseOptional(A.clientMaxRetries, maxRetriesValue),
    timeoutMs: reader.parseOptional(A.clientTimeout, timeoutValue),
  };
  return withoutUndefined(vault);
}

/** An absolute path without `..` segments, or the reason it is not. */
function badFilePath(value: string | undefined): boolean {
  const trimmed = value?.trim();
  return trimmed !== undefined && trimmed !== '' && (!trimmed.startsWith('/') || trimmed.split('/').includes('..'));
}

/**
 * What Vault Agent's aws, gcp and azure methods refuse at start (command/agent/auth/<method>): checked
 * at admission instead, naming the annotation, so the pod is not created with an agent that cannot start.
 */
function checkCloudConfig(
  reader: AnnotationReader,
  type: VaultAgentAuthType,
  config: Record<string, string>,
  role: string | undefined,
): void {
  const param = (name: string) => `${A.authConfig}-${name.replaceAll('_', '-')}`;
  if (type === 'aws' || type === 'gcp') {
    const kinds = type === 'aws' ? ['iam', 'ec2'] : ['iam', 'gce'];
    if (config.type === undefined || !kinds.includes(config.type.trim())) {
      reader.fail(param('type'), `required with auth-type ${type}: ${kinds.join(' or ')}`);
    }
  }
  if (type === 'aws') {
    if (config.credential_poll_interval !== undefined && !/^\d+$/.test(config.credential_poll_interval.trim()))
      reader.fail(param('credential_poll_interval'), 'expected whole seconds such as 60');
    if ((config.access_key?.trim() ? 1 : 0) + (config.secret_key?.trim() ? 1 : 0) === 1) {
      reader.fail(
        param('access_key'),
        `give both ${param('access_key')} and ${param('secret_key')}, or neither (then the pod's AWS credentials are used: IRSA, Pod Identity, the instance role)`,
      );
    }
  }
  if (type === 'gcp') {
    if (config.jwt_exp !== undefined && !/^\d+$/.test(config.jwt_exp.trim()))
      reader.fail(param('jwt_exp'), 'expected whole minutes such as 15');
    const credentials = config.credentials?.trim();
    if (credentials && !credentials.startsWith('{') && badFilePath(credentials))
      reader.fail(
        param('credentials'),
        "expected the key file's absolute path such as /vault/custom/key.json, or its JSON",
      );
  }
  if (type === 'azure') {
    if (!config.resource?.trim())
      reader.fail(
        param('resource'),
        "required with auth-type azure: the resource the managed-identity token is for, the same as the Vault mount's resource (such as https://management.azure.com/)",
      );
    if (config.object_id?.trim() && config.client_id?.trim())
      reader.fail(
        param('object_id'),
        `give ${param('object_id')} or ${param('client_id')} (the user-assigned managed identity), not both`,
      );
  }
  if (role === undefined)
    reader.fail(A.role, `required with auth-type ${type}: the Vault role to log in with (or ${A.authConfig}-role)`);
}

export function readAuth(
  reader: AnnotationReader,
  usesConfigMap: boolean,
  agentKind: AgentKind = 'vaultbridge',
): AuthSpec {
  const type = reader.parse(A.authType, authTypeValues[agentKind]);
  const mountPath = reader.parse(A.authPath, nonEmptyValue)?.replace(/^\/+|\/+$/g, '');
  const config: Record<string, string> = {};
  const prefix = `${A.authConfig}-`;
  for (const [name, value] of reader.podWithPrefix(prefix))
    config[name.slice(prefix.length).replaceAll('-', '_')] = value;
  const role = reader.nonEmpty(A.role)?.trim() ?? (config.role?.trim() || undefined);
  if (!usesConfigMap) {
    if ((type ?? 'kubernetes') === 'approle') {
      // Vault Agent's approle method: the role_id (and usually the secret_id) come from files, e.g. an
      // agent-extra-secret mounted at /vault/custom.
      if (!config.role_id_file_path?.trim())
        reader.fail(
          `${A.authConfig}-role-id-file-path`,
          'required with auth-type approle: the file holding the role_id, such as /vault/custom/role-id (mount it with agent-extra-secret)',
        );
      for (const param of ['role_id_file_path', 'secret_id_file_path'] as const) {
        const value = config[param]?.trim();
        if (value && (!value.startsWith('/') || value.split('/').includes('..')))
          reader.fail(
            `${A.authConfig}-${param.replaceAll('_', '-')}`,
            `expected an absolute file path such as /vault/custom/${param.startsWith('role') ? 'role-id' : 'secret-id'}`,
          );
      }
    } else if (type === 'aws' || type === 'gcp' || type === 'azure') {
      checkCloudConfig(reader, type, config, role);
    } else if ((type ?? 'kubernetes') === 'cert') {
      // Vault Agent's cert method: `name` (the certificate role) is optional, and the client certificate
      // is the vault stanza's (client-cert, client-key) unless the method names its own.
      for (const param of ['client_cert', 'client_key', 'ca_cert'] as const) {
        const value = config[param]?.trim();
        if (value && (!value.startsWith('/') || value.split('/').includes('..')))
          reader.fail(
            `${A.authConfig}-${param.replaceAll('_', '-')}`,
            'expected an absolute file path such as /vault/tls/client.crt',
          );
      }
      const ownPair = (config.client_cert?.trim() ? 1 : 0) + (config.client_key?.trim() ? 1 : 0);
      if (ownPair === 1)
        reader.fail(
          `${A.authConfig}-client-cert`,
          `give both ${A.authConfig}-client-cert and ${A.authConfig}-client-key, or neither (then client-cert and client-key are used)`,
        );
      else if (
        ownPair === 0 &&
        (reader.nonEmpty(A.clientCert) === undefined || reader.nonEmpty(A.clientKey) === undefined)
      ) {
        reader.fail(
          A.clientCert,
          'required with auth-type cert: the TLS client certificate and key (client-cert and client-key, e.g. from a tls-secret mounted at /vault/tls) are the credential',
        );
      }
    } else if (role === undefined && (type === undefined || isRoleMethod(type))) {
      reader.fail(A.role, `required: the Vault role to log in with (or ${A.authConfig}-role)`);
    }
  }
  const minBackoffMs = reader.parseOptional(A.authMinBackoff, goDurationValue);
  const maxBackoffMs = reader.parseOptional(A.authMaxBackoff, goDurationValue);
  const auth: AuthSpec = {
    type: type ?? 'kubernetes',
    mountPath: mountPath ?? 'auth/kubernetes',
    role,
    config,
    minBackoffMs,
    maxBackoffMs,
    exitOnError: reader.parse(A.agentAutoAuthExitOnErr, boolValue) ?? false,
  };
  return withoutUndefined(auth);
}
