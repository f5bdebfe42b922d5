import { readFileSync } from 'node:fs';
import path from 'node:path';
import { API_VERSION } from '@vaultbridge/operator';
import { parseManifests, type Manifest } from './manifests.ts';
import { Findings } from './report.ts';
import { convertVsoManifests } from './vso.ts';

const samples = parseManifests(
  readFileSync(path.join(import.meta.dirname, 'fixtures/vso-samples.yaml'), 'utf8'),
  'vso-samples.yaml',
);

function convert(manifests: Manifest[]) {
  const findings = new Findings();
  return { out: convertVsoManifests(manifests, findings), findings: findings.list };
}

function vso(kind: string, spec: object, metadata: object = { name: 'x', namespace: 'app' }): Manifest {
  return { apiVersion: 'secrets.hashicorp.com/v1beta1', kind, metadata, spec };
}

describe('VSO samples → secrets.vaultbridge.dev', () => {
  const { out, findings } = convert(samples);

  test('every VSO object changes group and keeps kind, name, namespace, labels and spec', () => {
    expect(out).toHaveLength(samples.length);
    samples.forEach((original, index) => {
      const converted = out[index]!;
      if (original.apiVersion === 'v1') {
        expect(converted).toBe(original);
        return;
      }
      expect(converted.apiVersion).toBe(API_VERSION);
      expect(converted.kind).toBe(original.kind);
      expect(converted.metadata).toEqual(original.metadata);
      expect(converted.spec).toEqual(original.spec);
    });
  });

  test('nothing is reported beyond notes', () => {
    expect(findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
  });
});

describe('what does not carry over is named with its field', () => {
  const cases: Array<{
    name: string;
    input: Manifest;
    severity: string;
    field: string;
    reason: RegExp;
    kept?: object;
  }> = [
    {
      name: 'an aws VaultAuth is refused: the method is not implemented',
      input: vso('VaultAuth', { method: 'aws', mount: 'aws', aws: { role: 'r', region: 'us-east-1' } }),
      severity: 'error',
      field: 'spec.aws',
      reason: /aws auth method is not implemented/,
    },
    {
      name: 'a CA file path on the operator pod cannot be read',
      input: vso('VaultConnection', { address: 'https://vault:8200', caCertPath: '/etc/ca.pem' }),
      severity: 'error',
      field: 'spec.caCertPath',
      reason: /caCertSecretRef/,
      kept: { address: 'https://vault:8200' },
    },
    {
      name: 'the client-cache encryption key is kept, and protects the tokens of the VaultAuth that names it',
      input: vso('VaultAuth', {
        method: 'kubernetes',
        mount: 'kubernetes',
        kubernetes: { role: 'r', serviceAccount: 'sa' },
        storageEncryption: { mount: 'transit', keyName: 'k' },
      }),
      severity: 'changed',
      field: 'spec.storageEncryption',
      reason: /cacheStorageEncryption=true/,
    },
    {
      name: 'an unknown nested field is reported by its full path',
      input: vso('VaultStaticSecret', {
        mount: 'kv',
        path: 'a',
        type: 'kv-v2',
        destination: { name: 'a', create: true, colour: 'blue' },
      }),
      severity: 'dropped',
      field: 'spec.destination.colour',
      reason: /not a field of the Vaultbridge VaultStaticSecret/,
    },
    {
      name: 'a VaultDynamicSecret without revoke: VSO 1.4 revoked anyway, ours does not',
      input: vso('VaultDynamicSecret', { mount: 'db', path: 'creds/app', destination: { name: 'db', create: true } }),
      severity: 'changed',
      field: 'spec.revoke',
      reason: /revoke: true/,
    },
    {
      name: "a spec the operator's parser refuses is an error naming the parser's field",
      input: vso('VaultConnection', { address: 'vault:8200' }),
      severity: 'error',
      field: 'spec.address',
      reason: /InvalidSpec.*expected a URL/,
    },
    {
      name: 'HCP Vault Secrets apps have no counterpart',
      input: vso('HCPVaultSecretsApp', { appName: 'web', destination: { name: 'web' } }),
      severity: 'error',
      field: 'kind',
      reason: /HCP Vault Secrets/,
    },
  ];
  test.each(cases)('$name', ({ input, severity, field, reason, kept }) => {
    const { out, findings } = convert([input]);
    expect(findings).toContainEqual({
      severity,
      source: { apiVersion: input.apiVersion, kind: input.kind, namespace: 'app', name: 'x' },
      field,
      reason: expect.stringMatching(reason),
    });
    if (kept !== undefined) expect(out[0]?.spec).toEqual(kept);
    if (input.kind === 'HCPVaultSecretsApp') expect(out).toEqual([]);
  });
});

test('server-set metadata and status are left behind', () => {
  const input = vso(
    'VaultConnection',
    { address: 'https://vault:8200' },
    {
      name: 'vault',
      namespace: 'app',
      uid: 'u',
      resourceVersion: '7',
      generation: 2,
      finalizers: ['vaultconnection.secrets.hashicorp.com/finalizer'],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', team: 'web' },
    },
  );
  const { out } = convert([{ ...input, status: { valid: true } }]);
  expect(out).toEqual([
    {
      apiVersion: API_VERSION,
      kind: 'VaultConnection',
      metadata: { name: 'vault', namespace: 'app', annotations: { team: 'web' } },
      spec: { address: 'https://vault:8200' },
    },
  ]);
});

describe('VaultAuthGlobal', () => {
  const global = vso(
    'VaultAuthGlobal',
    {
      allowedNamespaces: ['app'],
      defaultAuthMethod: 'kubernetes',
      defaultMount: 'k8s-default',
      vaultConnectionRef: 'vault',
      headers: { 'X-Team': 'web' },
      kubernetes: {
        mount: 'k8s',
        role: 'shared',
        serviceAccount: 'default',
        audiences: ['vault'],
        headers: { 'X-Method': 'k8s' },
      },
    },
    { name: 'global', namespace: 'platform' },
  );

  test('is converted as a kind of its own; the VaultAuth keeps its reference (merged at login, as VSO does) and is checked merged', () => {
    const auth = vso('VaultAuth', {
      vaultAuthGlobalRef: { name: 'global', namespace: 'platform', mergeStrategy: { headers: 'union' } },
      kubernetes: { serviceAccount: 'app' },
    });
    const { out, findings } = convert([global, auth]);
    expect(out).toEqual([
      { ...global, apiVersion: API_VERSION },
      { ...auth, apiVersion: API_VERSION },
    ]);
    expect(findings).toEqual([]);
  });

  test('a VaultAuth that is not usable even with its global is an error naming the field', () => {
    const auth = vso('VaultAuth', {
      vaultAuthGlobalRef: { name: 'global', namespace: 'platform' },
      method: 'jwt',
    });
    const { findings } = convert([global, auth]);
    expect(findings).toContainEqual(
      expect.objectContaining({ severity: 'error', field: 'spec.jwt', reason: expect.stringMatching(/global/) }),
    );
  });

  test('a namespace the global does not allow is an error, as in VSO', () => {
    const auth = vso(
      'VaultAuth',
      { vaultAuthGlobalRef: { name: 'global', namespace: 'platform' } },
      { name: 'x', namespace: 'other' },
    );
    const { findings } = convert([global, auth]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        field: 'spec.vaultAuthGlobalRef',
        reason: expect.stringMatching(/allowedNamespaces/),
      }),
    );
  });

  test('a reference to a global that is not in the input is reported (the VaultAuth could not be checked)', () => {
    const auth = vso('VaultAuth', {
      vaultAuthGlobalRef: { name: 'elsewhere' },
      method: 'kubernetes',
      mount: 'kubernetes',
      kubernetes: { role: 'r', serviceAccount: 'sa' },
    });
    const { findings } = convert([auth]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        severity: 'info',
        field: 'spec.vaultAuthGlobalRef',
        reason: expect.stringMatching(/was not in the input/),
      }),
    );
  });
});
