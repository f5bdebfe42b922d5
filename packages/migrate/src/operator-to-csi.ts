// Operator objects (ours, or VSO's converted first) → SecretProviderClasses. The CSI method delivers only
// into pods, so what moves is each pod volume that shows a synced Secret: it becomes a CSI volume of the
// same name whose SPC has one object per key the volume showed, read from the same Vault request. Env
// references to the Secret are kept working with the SPC's secretObjects (the driver syncs the Secret
// while a pod mounts the volume).
import type { V1Volume } from '@kubernetes/client-node';
import {
  API_VERSION,
  parseVaultAuthSpec,
  parseVaultConnectionSpec,
  parseVaultDynamicSecretSpec,
  parseVaultPkiSecretSpec,
  parseVaultStaticSecretSpec,
  pkiIssueBody,
  pkiIssuePath,
  SpecError,
} from '@vaultbridge/operator';
import { isRecord, sourceOf, type Manifest } from './manifests.ts';
import { dnsName } from './names.ts';
import type { Findings, SourceRef } from './report.ts';
import type { SharedObjects } from './shared-objects.ts';
import { csiVolume, secretProviderClass, type SpcConnection, type SpcObject } from './spc.ts';
import { fromOperatorTemplate } from './templates.ts';
import { editPod, podSpecField, type PodDocument } from './workload-volumes.ts';

const SYNCED = new Set(['VaultStaticSecret', 'VaultDynamicSecret', 'VaultPKISecret']);

interface Synced {
  readonly index: number;
  readonly manifest: Manifest;
  readonly source: SourceRef;
  readonly namespace: string;
  readonly spec: Record<string, unknown>;
  readonly destination: string;
  /** the Vault request the provider makes instead */
  readonly request: { secretPath: string; method?: string; secretArgs?: Record<string, unknown> };
  /** template text by Secret key (transformation templates) */
  readonly templates: Record<string, string>;
  /** raw Vault fields are in the Secret too (no `excludes: [".*"]`) */
  readonly rawKeys: boolean;
  /** a VaultPKISecret writing a kubernetes.io/tls Secret without templates: it adds tls.crt, tls.key, ca.crt */
  readonly tlsKeys: boolean;
}

function requestOf(kind: string, raw: unknown): Synced['request'] {
  if (kind === 'VaultStaticSecret') {
    const spec = parseVaultStaticSecretSpec(raw);
    return {
      secretPath:
        spec.type === 'kv-v2'
          ? `${spec.mount}/data/${spec.path}${spec.version ? `?version=${spec.version}` : ''}`
          : `${spec.mount}/${spec.path}`,
    };
  }
  if (kind === 'VaultDynamicSecret') {
    const spec = parseVaultDynamicSecretSpec(raw);
    const params = Object.keys(spec.params).length > 0 ? spec.params : undefined;
    // As VSO: a body means a write, whatever requestHTTPMethod says.
    const method = params ? 'PUT' : spec.requestHTTPMethod;
    return {
      secretPath: `${spec.mount}/${spec.path}`,
      ...(method !== 'GET' ? { method } : {}),
      ...(params ? { secretArgs: params } : {}),
    };
  }
  const spec = parseVaultPkiSecretSpec(raw);
  return { secretPath: pkiIssuePath(spec), method: 'PUT', secretArgs: pkiIssueBody(spec) };
}

function readSynced(manifests: readonly Manifest[], defaultNamespace: string, findings: Findings): Synced[] {
  const out: Synced[] = [];
  manifests.forEach((manifest, index) => {
    if (manifest.apiVersion !== API_VERSION || typeof manifest.kind !== 'string' || !SYNCED.has(manifest.kind)) return;
    const source = sourceOf(manifest);
    const spec = isRecord(manifest.spec) ? manifest.spec : {};
    let request: Synced['request'];
    try {
      request = requestOf(manifest.kind, spec);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      findings.add(
        'error',
        source,
        error.field,
        `the operator refuses this object, so it was not converted: ${error.message}`,
      );
      return;
    }
    const destination = isRecord(spec.destination) ? spec.destination : {};
    const transformation = isRecord(destination.transformation) ? destination.transformation : {};
    const templates = Object.fromEntries(
      Object.entries(isRecord(transformation.templates) ? transformation.templates : {}).flatMap(([key, value]) =>
        isRecord(value) && typeof value.text === 'string' ? [[key, value.text]] : [],
      ),
    );
    const excludes = Array.isArray(transformation.excludes) ? transformation.excludes : [];
    if (Array.isArray(transformation.transformationRefs) && transformation.transformationRefs.length > 0) {
      findings.add(
        'error',
        source,
        'spec.destination.transformation.transformationRefs',
        'SecretTransformation templates are not resolved by the converter; inline them in destination.transformation.templates',
      );
    }
    out.push({
      index,
      manifest,
      source,
      namespace: source.namespace ?? defaultNamespace,
      spec,
      destination: String(destination.name ?? ''),
      request,
      templates,
      rawKeys: !excludes.includes('.*'),
      tlsKeys:
        manifest.kind === 'VaultPKISecret' &&
        destination.type === 'kubernetes.io/tls' &&
        Object.keys(templates).length === 0,
    });
  });
  return out;
}

function find(manifests: readonly Manifest[], kind: string, namespace: string, name: string): Manifest | undefined {
  return manifests.find(
    (manifest) =>
      manifest.apiVersion === API_VERSION &&
      manifest.kind === kind &&
      sourceOf(manifest).name === name &&
      (sourceOf(manifest).namespace ?? namespace) === namespace,
  );
}

function refOf(value: unknown, namespace: string): { namespace: string; name: string } {
  const text = typeof value === 'string' && value !== '' ? value : 'default';
  const [first, second] = text.split('/');
  return second === undefined ? { namespace, name: first! } : { namespace: first!, name: second };
}

function connectionFor(synced: Synced, manifests: readonly Manifest[], findings: Findings): SpcConnection | undefined {
  const authRef = refOf(synced.spec.vaultAuthRef, synced.namespace);
  const auth = find(manifests, 'VaultAuth', authRef.namespace, authRef.name);
  if (auth === undefined) {
    findings.add(
      'error',
      synced.source,
      'spec.vaultAuthRef',
      `VaultAuth ${authRef.namespace}/${authRef.name} is not in the input; convert it together with this object (an empty ref is "default" in the operator's namespace)`,
    );
    return undefined;
  }
  const authSpec = parseVaultAuthSpec(auth.spec);
  if (authSpec.method !== 'kubernetes' || authSpec.kubernetes === undefined) {
    findings.add(
      'error',
      sourceOf(auth),
      'spec.method',
      `the CSI provider logs in with the pod's service-account token (kubernetes or jwt mount); method ${authSpec.method} has no counterpart`,
    );
    return undefined;
  }
  const connectionRef = refOf(authSpec.vaultConnectionRef, authRef.namespace);
  const connection = find(manifests, 'VaultConnection', connectionRef.namespace, connectionRef.name);
  if (connection === undefined) {
    findings.add(
      'error',
      sourceOf(auth),
      'spec.vaultConnectionRef',
      `VaultConnection ${connectionRef.namespace}/${connectionRef.name} is not in the input`,
    );
    return undefined;
  }
  const connectionSpec = parseVaultConnectionSpec(connection.spec);
  if (connectionSpec.caCertSecretRef) {
    findings.add(
      'error',
      sourceOf(connection),
      'spec.caCertSecretRef',
      'the provider reads its CA from a file on its own pod (vaultCACertPath, or its -vault-tls-ca-cert flag); mount the CA there',
    );
  }
  if (Object.keys(connectionSpec.headers).length > 0)
    findings.add('dropped', sourceOf(connection), 'spec.headers', 'the provider sends no extra headers');
  findings.add(
    'info',
    synced.source,
    'spec.vaultAuthRef',
    `logs in as each pod's own service account now (the VaultAuth used ${authSpec.kubernetes.serviceAccount}); Vault role ${authSpec.kubernetes.role} must allow the pods' service accounts`,
  );
  return {
    vaultAddress: connectionSpec.address,
    roleName: authSpec.kubernetes.role,
    vaultKubernetesMountPath: authSpec.mount,
    ...(authSpec.namespace ? { vaultNamespace: authSpec.namespace } : {}),
    ...(connectionSpec.skipTLSVerify ? { vaultSkipTLSVerify: true } : {}),
    ...(connectionSpec.tlsServerName ? { vaultTLSServerName: connectionSpec.tlsServerName } : {}),
    ...(authSpec.kubernetes.audiences[0] ? { audience: authSpec.kubernetes.audiences[0] } : {}),
  };
}

/**
 * The keys a kubernetes.io/tls VaultPKISecret adds (operator controllers/pki-secret.ts, as VSO): tls.key
 * and ca.crt are Vault fields as they are; tls.crt is the certificate, a newline and the CA chain joined
 * by newlines (else the issuing CA), written here as a Go template over the provider's issue answer.
 */
const TLS_KEYS: Record<string, { secretKey?: string; template?: string }> = {
  'tls.key': { secretKey: 'private_key' },
  'ca.crt': { secretKey: 'issuing_ca' },
  'tls.crt': {
    template:
      '{{ .certificate }}{{ with .ca_chain }}{{ "\\n" }}{{ join "\\n" . }}{{ else }}{{ with .issuing_ca }}{{ "\\n" }}{{ . }}{{ end }}{{ end }}',
  },
};

function objectFor(
  synced: Synced,
  key: string,
  path: string,
  mode: number | undefined,
  findings: Findings,
): SpcObject | undefined {
  const base = {
    objectName: path,
    secretPath: synced.request.secretPath,
    ...(synced.request.method ? { method: synced.request.method } : {}),
    ...(synced.request.secretArgs ? { secretArgs: synced.request.secretArgs } : {}),
    ...(mode === undefined ? {} : { filePermission: mode }),
  };
  const template = synced.templates[key];
  if (template !== undefined) {
    const moved = fromOperatorTemplate(template);
    if (moved === undefined) {
      findings.add(
        'error',
        synced.source,
        `spec.destination.transformation.templates.${key}`,
        'reads Metadata, Annotations or Labels, which only the operator has',
      );
      return undefined;
    }
    const single = /^\{\{\s*(?:get\s+@root\s+"([^"]+)"|@root\.([A-Za-z_][A-Za-z0-9_]*))\s*\}\}$/.exec(moved);
    if (single) return { ...base, secretKey: single[1] ?? single[2]! };
    findings.add(
      'changed',
      synced.source,
      `spec.destination.transformation.templates.${key}`,
      "kept as the object's template, which the Vaultbridge CSI provider renders; upstream vault-csi-provider has no templates",
    );
    return { ...base, template: moved };
  }
  if (key === '_raw') {
    findings.add(
      'changed',
      synced.source,
      'spec.destination',
      "key _raw (the JSON of Vault's data) becomes the provider's whole-response JSON, which also carries request_id and the lease fields",
    );
    return base;
  }
  const tls = synced.tlsKeys ? TLS_KEYS[key] : undefined;
  if (tls) {
    if (tls.template === undefined) return { ...base, secretKey: tls.secretKey };
    findings.add(
      'changed',
      synced.source,
      'spec.destination.type',
      `key ${key} (the certificate with its CA chain appended, as the operator and VSO write it) becomes a Go template object, which the Vaultbridge CSI provider renders; upstream vault-csi-provider would need secretKey certificate (no chain)`,
    );
    return { ...base, template: tls.template, templateEngine: 'go' };
  }
  if (!synced.rawKeys) {
    findings.add(
      'error',
      synced.source,
      'spec.destination.transformation',
      `the volume shows key "${key}", which this object does not write`,
    );
    return undefined;
  }
  return { ...base, secretKey: key };
}

/** The keys a volume source shows: its items, else the templated keys when the raw ones are excluded. */
type Shown = { key: string; path: string; mode?: number };

function shownKeys(
  synced: Synced,
  items: readonly Shown[] | undefined,
  volumeSource: SourceRef,
  field: string,
  findings: Findings,
): readonly Shown[] | undefined {
  if (items !== undefined && items.length > 0) return items;
  if (!synced.rawKeys) return Object.keys(synced.templates).map((key) => ({ key, path: key }));
  findings.add(
    'error',
    volumeSource,
    field,
    `shows every key of Secret ${synced.destination}, which are Vault's field names (unknown without Vault); list them with items so each becomes a CSI object`,
  );
  return undefined;
}

interface SpcDraft {
  readonly name: string;
  readonly connection: SpcConnection;
  readonly objects: SpcObject[];
  /** synced Secret → its keys and the object that mounts each */
  readonly keys: Map<string, Map<string, string>>;
  readonly secretObjects: Array<{ secretName: string; type: string; data: Array<{ objectName: string; key: string }> }>;
}

/** Secrets the pod's containers read as environment: name → the keys (or every key, for envFrom) and the containers. */
function envReferences(document: PodDocument): Map<string, { keys: Set<string> | 'all'; containers: Set<string> }> {
  const refs = new Map<string, { keys: Set<string> | 'all'; containers: Set<string> }>();
  const spec = document.slot.pod.spec;
  for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    const add = (name: string | undefined, key: string | undefined) => {
      if (!name) return;
      const ref = refs.get(name) ?? { keys: new Set<string>(), containers: new Set<string>() };
      if (key === undefined) ref.keys = 'all';
      else if (ref.keys !== 'all') ref.keys.add(key);
      ref.containers.add(container.name);
      refs.set(name, ref);
    };
    for (const env of container.env ?? [])
      if (env.valueFrom?.secretKeyRef) add(env.valueFrom.secretKeyRef.name, env.valueFrom.secretKeyRef.key);
    for (const from of container.envFrom ?? []) if (from.secretRef) add(from.secretRef.name, undefined);
  }
  return refs;
}

export function operatorToCsi(
  manifests: readonly Manifest[],
  documents: readonly PodDocument[],
  defaultNamespace: string,
  shared: SharedObjects,
  findings: Findings,
): Map<number, Manifest[]> {
  const replaced = new Map<number, Manifest[]>();
  const synced = readSynced(manifests, defaultNamespace, findings);
  const used = new Set<Synced>();
  const blocked = new Set<Synced>();
  for (const document of documents) {
    const volumes = document.slot.pod.spec?.volumes ?? [];
    const replacements = new Map<string, V1Volume>();
    const drafts: SpcDraft[] = [];
    for (const [volumeIndex, volume] of volumes.entries()) {
      const field = `${podSpecField(document.source.kind)}.volumes[${volumeIndex}]`;
      const sources = volume.secret
        ? [{ name: volume.secret.secretName ?? '', items: volume.secret.items, mode: volume.secret.defaultMode }]
        : (volume.projected?.sources ?? []).map((item) =>
            item.secret
              ? { name: item.secret.name ?? '', items: item.secret.items, mode: volume.projected?.defaultMode }
              : undefined,
          );
      const matches = sources.map((item) =>
        item
          ? synced.find(
              (candidate) => candidate.namespace === document.namespace && candidate.destination === item.name,
            )
          : undefined,
      );
      if (!matches.some(Boolean)) continue;
      if (matches.some((match) => match === undefined)) {
        findings.add(
          'error',
          document.source,
          field,
          'mixes synced Secrets with other sources; a CSI volume holds only what its SecretProviderClass reads',
        );
        continue;
      }
      const connections = matches.map((match) => connectionFor(match!, manifests, findings));
      const connection = connections[0];
      if (
        connection === undefined ||
        connections.some((other) => JSON.stringify(other) !== JSON.stringify(connection))
      ) {
        if (connection !== undefined)
          findings.add(
            'error',
            document.source,
            field,
            'its Secrets come from different Vault connections or roles; one SecretProviderClass logs in once',
          );
        continue;
      }
      const draft: SpcDraft = {
        name: shared.uniqueName(['SecretProviderClass'], document.namespace, dnsName(document.name, volume.name)),
        connection,
        objects: [],
        keys: new Map(),
        secretObjects: [],
      };
      // All or nothing: a volume with a key that cannot move stays as it is, with its synced objects.
      let complete = true;
      sources.forEach((item, i) => {
        const match = matches[i]!;
        const keys = shownKeys(match, item!.items, document.source, field, findings);
        if (keys === undefined) {
          complete = false;
          return;
        }
        const byKey = draft.keys.get(match.destination) ?? new Map<string, string>();
        for (const key of keys) {
          const object = objectFor(match, key.key, key.path, key.mode ?? item!.mode ?? undefined, findings);
          if (!object) {
            complete = false;
            continue;
          }
          draft.objects.push(object);
          byKey.set(key.key, object.objectName);
        }
        draft.keys.set(match.destination, byKey);
      });
      if (!complete) {
        for (const match of matches) blocked.add(match!);
        continue;
      }
      for (const match of matches) used.add(match!);
      drafts.push(draft);
      replacements.set(volume.name, csiVolume(volume.name, draft.name));
    }

    // Env references: the driver syncs a Kubernetes Secret of the same name from mounted objects (secretObjects),
    // only while a pod mounts the volume; a volume is added where none showed the Secret.
    const added: Array<{ volume: V1Volume; mountPath: string; containers: Set<string> }> = [];
    for (const [secretName, ref] of envReferences(document)) {
      const match = synced.find(
        (candidate) => candidate.namespace === document.namespace && candidate.destination === secretName,
      );
      if (match === undefined) continue;
      const field = `${podSpecField(document.source.kind)}.containers[*].env`;
      let draft = drafts.find((candidate) => candidate.keys.has(secretName));
      if (draft === undefined) {
        const connection = connectionFor(match, manifests, findings);
        if (connection === undefined) continue;
        draft = {
          name: shared.uniqueName(
            ['SecretProviderClass'],
            document.namespace,
            dnsName(document.name, secretName, 'env'),
          ),
          connection,
          objects: [],
          keys: new Map([[secretName, new Map()]]),
          secretObjects: [],
        };
        drafts.push(draft);
        const volumeName = dnsName('secrets-store', secretName)
          .slice(0, 63)
          .replace(/[^a-z0-9]+$/, '');
        added.push({
          volume: csiVolume(volumeName, draft.name),
          mountPath: `/mnt/secrets-store/${secretName}`,
          containers: ref.containers,
        });
      }
      used.add(match);
      const byKey = draft.keys.get(secretName)!;
      const wanted =
        ref.keys === 'all'
          ? byKey.size > 0
            ? [...byKey.keys()]
            : (shownKeys(match, undefined, document.source, field, findings)?.map((key) => key.key) ?? [])
          : [...ref.keys];
      for (const key of wanted) {
        if (byKey.has(key)) continue;
        const objectName = draft.objects.some((object) => object.objectName === key) ? `env/${key}` : key;
        const object = objectFor(match, key, objectName, undefined, findings);
        if (!object) continue;
        draft.objects.push(object);
        byKey.set(key, objectName);
      }
      draft.secretObjects.push({
        secretName,
        type: String((isRecord(match.spec.destination) && match.spec.destination.type) || 'Opaque'),
        data: wanted.filter((key) => byKey.has(key)).map((key) => ({ objectName: byKey.get(key)!, key })),
      });
      findings.add(
        'changed',
        match.source,
        'spec.destination.name',
        `env references to Secret ${secretName} are kept by the SecretProviderClass's secretObjects: the CSI driver writes that Secret when a pod mounts the volume (and removes it when none does), not ahead of time`,
      );
    }

    if (replacements.size > 0 || added.length > 0) {
      const spcs = drafts.map((draft) =>
        secretProviderClass(draft.name, document.namespace, draft.connection, draft.objects, draft.secretObjects),
      );
      replaced.set(document.index, [
        ...spcs,
        editPod(document, (pod) => {
          pod.spec!.volumes = [
            ...(pod.spec!.volumes ?? []).map((volume) => replacements.get(volume.name) ?? volume),
            ...added.map((entry) => entry.volume),
          ];
          for (const container of [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers]) {
            for (const entry of added) {
              if (entry.containers.has(container.name))
                container.volumeMounts = [
                  ...(container.volumeMounts ?? []),
                  { name: entry.volume.name, mountPath: entry.mountPath, readOnly: true },
                ];
            }
          }
        }),
      ]);
    }
  }
  for (const item of synced) {
    if (!used.has(item)) {
      findings.add(
        'error',
        item.source,
        'spec.destination.name',
        blocked.has(item)
          ? `a pod volume shows Secret ${item.destination} but could not move (see that pod's finding); this object stays`
          : `no pod in the input mounts Secret ${item.destination} or reads it as environment; the CSI method delivers only into pods`,
      );
    }
    replaced.set(item.index, used.has(item) ? [] : [item.manifest]);
  }
  // VaultAuths and VaultConnections go with the objects that used them, unless some object stays.
  if (synced.every((item) => used.has(item))) {
    for (const [index, manifest] of manifests.entries()) {
      if (manifest.apiVersion === API_VERSION && (manifest.kind === 'VaultAuth' || manifest.kind === 'VaultConnection'))
        replaced.set(index, []);
    }
  }
  return replaced;
}
