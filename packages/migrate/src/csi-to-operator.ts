// SecretProviderClass (vault provider) → operator objects. Each object of the SPC becomes a key of a
// synced object's destination Secret (one synced object per Vault request: path, method and body), and
// each pod volume that used the SPC becomes a projected volume of those Secrets with the same name, so
// the pod's volumeMounts keep working unchanged.
import type { V1Volume } from '@kubernetes/client-node';
import { API_VERSION } from '@vaultbridge/operator';
import { isRecord, sourceOf, type Manifest } from './manifests.ts';
import { dnsName, secretKeyFor } from './names.ts';
import type { Findings, SourceRef } from './report.ts';
import type { SharedObjects } from './shared-objects.ts';
import { CSI_DRIVER, parseSpc, type ParsedSpc } from './spc.ts';
import { toOperatorTemplate } from './templates.ts';
import { classifyVaultPath, type MountTable } from './vault-paths.ts';
import { replaceVolumes, type PodDocument } from './workload-volumes.ts';

export interface CsiToOperatorOptions {
  /** the provider's -vault-addr, for SPCs without vaultAddress */
  readonly vaultAddress?: string;
  readonly mounts?: MountTable;
}

type SpcEntry = ParsedSpc['objects'][number];

const PROVIDER_FILES = ['vaultCACertPath', 'vaultCADirectory', 'vaultTLSClientCertPath', 'vaultTLSClientKeyPath'];

function field(name: string): string {
  return `spec.parameters.${name}`;
}

function templateOf(entry: SpcEntry, at: string, source: SourceRef, findings: Findings): string | undefined {
  if (entry.templateText !== undefined) return toOperatorTemplate(entry.templateText);
  if (entry.secretKey === undefined) {
    findings.add(
      'changed',
      source,
      `${at}.secretKey`,
      "no secretKey: the provider wrote Vault's whole JSON response (request_id, lease fields, KV v2's data/metadata); the operator writes the secret's data as JSON",
    );
    return '{{json Secrets}}';
  }
  const get = `(get Secrets ${JSON.stringify(entry.secretKey)})`;
  if (entry.encoding === 'base64') return `{{base64Decode ${get}}}`;
  if (entry.encoding === 'hex') {
    findings.add(
      'error',
      source,
      `${at}.encoding`,
      'hex-encoded values have no template helper to decode them in the operator; store the value as text or base64',
    );
    return undefined;
  }
  return `{{${get.slice(1, -1)}}}`;
}

interface Group {
  readonly key: string;
  readonly entries: Array<{ entry: SpcEntry; index: number }>;
}

function requestKey(entry: SpcEntry): string {
  return JSON.stringify([entry.path, entry.query, entry.method, entry.secretArgs ?? null]);
}

function stringParams(
  args: Record<string, unknown> | undefined,
  at: string,
  source: SourceRef,
  findings: Findings,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(args ?? {})) {
    if (typeof value === 'string') out[key] = value;
    else {
      out[key] = JSON.stringify(value);
      findings.add(
        'changed',
        source,
        `${at}.secretArgs.${key}`,
        'VaultDynamicSecret params are strings; the value is sent as its JSON text, which Vault parses for most fields',
      );
    }
  }
  return out;
}

function syncedSpec(
  group: Group,
  spcSource: SourceRef,
  options: CsiToOperatorOptions,
  findings: Findings,
): { kind: string; spec: Record<string, unknown> } | undefined {
  const { entry, index } = group.entries[0]!;
  const at = `spec.parameters.objects[${index}]`;
  const path = entry.path;
  const classified = classifyVaultPath(path, options.mounts);
  if (classified === undefined) {
    findings.add(
      'error',
      spcSource,
      `${at}.secretPath`,
      `"${entry.secretPath}" is not a Vault secret path (<mount>/<path>)`,
    );
    return undefined;
  }
  if (classified.guessed)
    findings.add(
      'info',
      spcSource,
      `${at}.secretPath`,
      `read as a ${classified.kind === 'kv' ? `KV v${classified.version}` : classified.kind} secret from the path's shape; pass --ask-vault (VAULT_ADDR, VAULT_TOKEN) to ask Vault`,
    );
  if (classified.kind === 'kv' && entry.method === 'GET') {
    const version = entry.query.version === undefined ? undefined : Number(entry.query.version);
    return {
      kind: 'VaultStaticSecret',
      spec: {
        mount: classified.mount,
        path: classified.path,
        type: `kv-v${classified.version}`,
        ...(version ? { version } : {}),
      },
    };
  }
  if (classified.kind === 'pki' && (entry.method === 'PUT' || entry.method === 'POST')) {
    const args = entry.secretArgs ?? {};
    const list = (value: unknown) =>
      typeof value === 'string' && value !== '' ? value.split(',').map((item) => item.trim()) : undefined;
    const spec: Record<string, unknown> = { mount: classified.mount, role: classified.role };
    const known: Record<string, (value: unknown) => void> = {
      common_name: (v) => (spec.commonName = String(v)),
      alt_names: (v) => (spec.altNames = list(v)),
      ip_sans: (v) => (spec.ipSans = list(v)),
      uri_sans: (v) => (spec.uriSans = list(v)),
      other_sans: (v) => (spec.otherSans = list(v)),
      user_ids: (v) => (spec.userIDs = list(v)),
      ttl: (v) => (spec.ttl = String(v)),
      format: (v) => (spec.format = String(v)),
      private_key_format: (v) => (spec.privateKeyFormat = String(v)),
      not_after: (v) => (spec.notAfter = String(v)),
      exclude_cn_from_sans: (v) => (spec.excludeCNFromSans = v === true || v === 'true'),
    };
    for (const [key, value] of Object.entries(args)) {
      const set = known[key];
      if (set) set(value);
      else
        findings.add(
          'dropped',
          spcSource,
          `${at}.secretArgs.${key}`,
          'not a VaultPKISecret field (VSO sends a fixed set of issue parameters)',
        );
    }
    const issuer = /^issuer\/([^/]+)\/issue\//.exec(path.slice(classified.mount.length + 1));
    if (issuer) spec.issuerRef = issuer[1];
    findings.add(
      'changed',
      spcSource,
      `${at}.secretPath`,
      'a certificate is issued once and re-issued before it expires (expiryOffset), instead of at each mount',
    );
    return {
      kind: 'VaultPKISecret',
      spec: Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)),
    };
  }
  if (!['GET', 'POST', 'PUT'].includes(entry.method)) {
    findings.add(
      'error',
      spcSource,
      `${at}.method`,
      `${entry.method} is not a VaultDynamicSecret requestHTTPMethod (GET, POST, PUT)`,
    );
    return undefined;
  }
  const mount = classified.mount;
  const relative = path.slice(mount.length + 1);
  const params = stringParams(entry.secretArgs, at, spcSource, findings);
  return {
    kind: 'VaultDynamicSecret',
    spec: {
      mount,
      path: relative,
      ...(entry.method !== 'GET' ? { requestHTTPMethod: entry.method } : {}),
      ...(Object.keys(params).length > 0 ? { params } : {}),
      ...(classified.kind === 'dynamic' && classified.staticCreds ? { allowStaticCreds: true } : {}),
    },
  };
}

interface Converted {
  /** CSI volume → the projected volume replacing it, for this SPC and service account */
  readonly volume: (name: string) => V1Volume;
  readonly objects: Manifest[];
}

function convertSpc(
  spc: Manifest,
  parsed: ParsedSpc,
  namespace: string,
  serviceAccount: string,
  suffix: string,
  shared: SharedObjects,
  options: CsiToOperatorOptions,
  findings: Findings,
): Converted | undefined {
  const source = sourceOf(spc);
  const params = parsed.parameters;
  for (const name of PROVIDER_FILES) {
    if (params[name])
      findings.add(
        'error',
        source,
        field(name),
        `a file on the provider's pod; put the CA in a Secret under ca.crt and set the VaultConnection spec.caCertSecretRef (client certificates are not a VaultConnection setting)`,
      );
  }
  const address = params.vaultAddress || options.vaultAddress;
  if (!address) {
    findings.add(
      'error',
      source,
      field('vaultAddress'),
      'not set, so the provider used its -vault-addr flag; pass that address with --vault-address',
    );
    return undefined;
  }
  const connection = shared.ensure('VaultConnection', namespace, 'vault', {
    address,
    ...(params.vaultSkipTLSVerify === 'true' ? { skipTLSVerify: true } : {}),
    ...(params.vaultTLSServerName ? { tlsServerName: params.vaultTLSServerName } : {}),
  });
  if (!params.audience) {
    findings.add(
      'info',
      source,
      field('audience'),
      'not set: the provider logged in with the kubelet\'s token for audience "vault" when the CSIDriver requests one, else with the API server\'s default audience; the VaultAuth mints tokens for audience "vault" (the operator\'s default; it refuses the API server\'s own), so the Vault role must have no audience or accept "vault"',
    );
  }
  const mount =
    (params.vaultAuthMountPath ?? params.vaultKubernetesMountPath ?? '')
      .replace(/^\/+|\/+$/g, '')
      .replace(/^auth\//, '') || 'kubernetes';
  const auth = shared.ensure('VaultAuth', namespace, dnsName(serviceAccount, params.roleName ?? 'vault'), {
    vaultConnectionRef: connection,
    method: 'kubernetes',
    mount,
    ...(params.vaultNamespace ? { namespace: params.vaultNamespace } : {}),
    kubernetes: {
      role: params.roleName ?? '',
      serviceAccount,
      ...(params.audience ? { audiences: [params.audience] } : {}),
    },
  });
  const groups = new Map<string, Group>();
  parsed.objects.forEach((entry, index) => {
    const key = requestKey(entry);
    const group = groups.get(key) ?? { key, entries: [] };
    group.entries.push({ entry, index });
    groups.set(key, group);
  });
  // secretObjects: the driver synced a Kubernetes Secret from mounted objects (for env references). When
  // all of one Secret's objects come from one Vault request, that request's synced object writes it:
  // same Secret name, type, labels, and its keys beside the file keys.
  const synced = syncedSecretsByGroup(parsed, groups, source, findings);
  const objects: Manifest[] = [];
  const items = new Map<string, Array<{ key: string; path: string; mode?: number }>>();
  const spcName = sourceOf(spc).name;
  for (const group of groups.values()) {
    const kindAndSpec = syncedSpec(group, source, options, findings);
    if (kindAndSpec === undefined) continue;
    const sync = synced.get(group.key);
    const objectName = shared.uniqueName(
      [kindAndSpec.kind],
      namespace,
      dnsName(spcName, suffix, group.entries[0]!.entry.objectName),
    );
    if (sync) shared.reserve('Secret', namespace, sync.secretName);
    const secretName = sync?.secretName ?? shared.uniqueName(['Secret'], namespace, objectName);
    const templates: Record<string, { text: string }> = {};
    const groupItems: Array<{ key: string; path: string; mode?: number }> = [];
    const textOf = new Map<string, string>();
    for (const { entry, index } of group.entries) {
      const text = templateOf(entry, `spec.parameters.objects[${index}]`, source, findings);
      if (text === undefined) continue;
      const key = secretKeyFor(entry.objectName);
      templates[key] = { text };
      textOf.set(entry.objectName, text);
      groupItems.push({ key, path: entry.objectName, ...(entry.filePermission ? { mode: entry.filePermission } : {}) });
    }
    for (const { objectName, key } of sync?.data ?? []) {
      const text = textOf.get(objectName);
      if (text !== undefined && (templates[key] === undefined || templates[key].text === text))
        templates[key] = { text };
      else if (text !== undefined)
        findings.add(
          'error',
          source,
          'spec.secretObjects',
          `key "${key}" of Secret ${secretName} is also the file key of another object; rename one of them`,
        );
    }
    items.set(secretName, groupItems);
    const destination = {
      name: secretName,
      create: true,
      // The driver's Secret stays while an old pod mounts the volume, and a rolling update keeps the old
      // pod until the new one (which needs this Secret's file keys) is Ready: without taking it over the
      // rollout waits forever (found in real pods, test/cluster/migrate-pods.test.ts).
      ...(sync ? { overwrite: true } : {}),
      ...(sync?.type ? { type: sync.type } : {}),
      ...(sync?.labels ? { labels: sync.labels } : {}),
      ...(sync?.annotations ? { annotations: sync.annotations } : {}),
      transformation: { excludes: ['.*'], excludeRaw: true, templates },
    };
    objects.push({
      apiVersion: API_VERSION,
      kind: kindAndSpec.kind,
      metadata: { name: objectName, namespace },
      spec: { vaultAuthRef: auth, ...kindAndSpec.spec, destination },
    });
  }
  return {
    objects,
    volume: (name) => ({
      name,
      projected: { sources: [...items].map(([secretName, list]) => ({ secret: { name: secretName, items: list } })) },
    }),
  };
}

interface SyncedSecret {
  readonly secretName: string;
  readonly type?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly data: ReadonlyArray<{ objectName: string; key: string }>;
}

/** Each secretObjects entry that one Vault request can write, by that request's group key; the others reported. */
function syncedSecretsByGroup(
  parsed: ParsedSpc,
  groups: ReadonlyMap<string, Group>,
  source: SourceRef,
  findings: Findings,
): Map<string, SyncedSecret> {
  const out = new Map<string, SyncedSecret>();
  const groupOf = new Map<string, string>();
  for (const group of groups.values()) for (const { entry } of group.entries) groupOf.set(entry.objectName, group.key);
  parsed.secretObjects.forEach((raw, index) => {
    const at = `spec.secretObjects[${index}]`;
    if (!isRecord(raw) || typeof raw.secretName !== 'string')
      return findings.add('error', source, at, 'expected a secretName and data');
    const data = (Array.isArray(raw.data) ? raw.data : [])
      .filter(isRecord)
      .map((item) => ({ objectName: String(item.objectName ?? ''), key: String(item.key ?? '') }));
    const keys = new Set(data.map((item) => groupOf.get(item.objectName)));
    const [groupKey] = keys;
    if (keys.size !== 1 || groupKey === undefined) {
      findings.add(
        'error',
        source,
        at,
        `Secret ${raw.secretName} takes objects from ${keys.size} Vault requests; the operator writes one Secret per request, so split it (one secretObjects entry per Vault path) or point the env references at the operator's Secrets`,
      );
      return;
    }
    if (out.has(groupKey)) {
      findings.add(
        'error',
        source,
        at,
        `another secretObjects entry already names a Secret for the same Vault request; the operator writes one Secret per request`,
      );
      return;
    }
    const strings = (value: unknown) =>
      isRecord(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])) : undefined;
    out.set(groupKey, {
      secretName: raw.secretName,
      data,
      ...(typeof raw.type === 'string' && raw.type !== '' ? { type: raw.type } : {}),
      ...(strings(raw.labels) ? { labels: strings(raw.labels)! } : {}),
      ...(strings(raw.annotations) ? { annotations: strings(raw.annotations)! } : {}),
    });
    findings.add(
      'changed',
      source,
      at,
      `Secret ${raw.secretName} is written by the operator (with the files' keys beside its own) and kept whether or not a pod mounts the volume; the driver synced it only while one did. The synced object takes over the driver's Secret of that name (spec.destination.overwrite), since the old pods keep it while the new ones start`,
    );
  });
  return out;
}

function spcVolumes(document: PodDocument): Array<{ volume: string; spc: string }> {
  return (document.slot.pod.spec?.volumes ?? []).flatMap((volume) => {
    const csi = volume.csi;
    const spc = csi?.volumeAttributes?.secretProviderClass;
    return csi?.driver === CSI_DRIVER && spc ? [{ volume: volume.name, spc }] : [];
  });
}

export interface CsiToOperatorResult {
  /** per input index: what replaces the document there (SPCs are replaced by their objects, workloads rewritten) */
  readonly replaced: Map<number, Manifest[]>;
}

export function csiToOperator(
  manifests: readonly Manifest[],
  documents: readonly PodDocument[],
  shared: SharedObjects,
  options: CsiToOperatorOptions,
  findings: Findings,
): CsiToOperatorResult {
  const replaced = new Map<number, Manifest[]>();
  const volumeReplacements = new Map<number, Map<string, V1Volume>>();
  manifests.forEach((spc, index) => {
    if (!(spc.kind === 'SecretProviderClass' && isRecord(spc.spec) && spc.spec.provider === 'vault')) return;
    const source = sourceOf(spc);
    const namespace = source.namespace ?? documents[0]?.namespace ?? 'default';
    const parsed = parseSpc(spc);
    for (const issue of parsed.issues)
      findings.add('error', source, `spec.parameters.${issue.field}`, `the provider refuses this: ${issue.message}`);
    if (parsed.issues.length > 0) return;
    const users = documents.filter(
      (document) => document.namespace === namespace && spcVolumes(document).some((use) => use.spc === source.name),
    );
    const accounts = [...new Set(users.map((user) => user.serviceAccount))];
    if (accounts.length === 0) {
      findings.add(
        'info',
        source,
        'metadata.name',
        'no pod in the input mounts this SecretProviderClass; its objects log in as service account "default"',
      );
      accounts.push('default');
    }
    const out: Manifest[] = [];
    const rollback = shared.mark();
    const pending = new Map<number, Map<string, V1Volume>>();
    for (const account of accounts) {
      const converted = convertSpc(
        spc,
        parsed,
        namespace,
        account,
        accounts.length > 1 ? account : '',
        shared,
        options,
        findings,
      );
      if (converted === undefined) continue;
      out.push(...converted.objects);
      for (const user of users.filter((candidate) => candidate.serviceAccount === account)) {
        const map = pending.get(user.index) ?? new Map<string, V1Volume>();
        for (const use of spcVolumes(user).filter((candidate) => candidate.spc === source.name))
          map.set(use.volume, converted.volume(use.volume));
        pending.set(user.index, map);
      }
    }
    // All or nothing: an SPC with an object that cannot move stays, and so do the volumes that use it.
    if (findings.errorsFor(source) > 0) {
      rollback();
      findings.add(
        'error',
        source,
        'spec',
        'not converted: this SecretProviderClass and the pod volumes that use it stay until the errors above are resolved',
      );
      return;
    }
    for (const [userIndex, map] of pending) {
      const merged = volumeReplacements.get(userIndex) ?? new Map<string, V1Volume>();
      for (const [name, volume] of map) merged.set(name, volume);
      volumeReplacements.set(userIndex, merged);
    }
    replaced.set(index, out);
  });
  for (const [index, map] of volumeReplacements) {
    const document = documents.find((candidate) => candidate.index === index)!;
    replaced.set(index, [replaceVolumes(document, map)]);
  }
  return { replaced };
}
