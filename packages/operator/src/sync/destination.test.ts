import { createHmac } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  ALLOW_SYNC_ANNOTATION,
  buildSecretData,
  MANAGED_BY_LABEL,
  planWrite,
  toCachedSecret,
  transformSecretData,
  VSO_OWNER_UID_LABEL,
  type Owner,
} from './destination.ts';
import { parseTransformation } from '../api/sync-target.ts';
import { SpecError } from '../api/common.ts';
import { macInput, secretMac } from './hmac.ts';
import { setConditions } from '../runtime/conditions.ts';
import { parseJsonKeepingNumbers } from '@vaultbridge/core';

const owner: Owner = {
  apiVersion: 'secrets.vaultbridge.dev/v1beta1',
  kind: 'VaultStaticSecret',
  name: 'app',
  uid: 'uid-1',
};
const destination = {
  name: 'app',
  create: true,
  overwrite: false,
  labels: { team: 'web' },
  annotations: {},
  type: 'Opaque',
};
const b64 = (text: string) => Buffer.from(text).toString('base64');

test('data: strings as-is, others as JSON, plus _raw', () => {
  const data = buildSecretData({ user: 'u', port: 5432, tags: ['a'] }, { data: { user: 'u' } });
  expect(data).toEqual({ _raw: b64('{"data":{"user":"u"}}'), user: b64('u'), port: b64('5432'), tags: b64('["a"]') });
  expect(() => buildSecretData({ _raw: 'x' }, {})).toThrow('_raw');
});

test('JSON fields and _raw are the bytes Go encoding/json writes for what Vault sent (VSO byte-identical)', () => {
  // A KV v2 answer as Vault sends it; the expected bytes are Go's json.Marshal output after Vault's
  // client decoded it with UseNumber (core/src/encoding/testdata/gen.go prints the same).
  const answer = parseJsonKeepingNumbers(
    '{"data":{"password":"p&ss<word>","port":5432,"ratio":0.50,"nested":{"list":["a",1e2]}},"metadata":{"created_time":"2026-12-06T06:00:00.123456789Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":3}}',
  ) as { data: Record<string, unknown> };
  const data = buildSecretData(answer.data, answer);
  const text = (key: string) => Buffer.from(data[key]!, 'base64').toString('utf8');
  expect(text('_raw')).toBe(
    '{"data":{"nested":{"list":["a",1e2]},"password":"p\\u0026ss\\u003cword\\u003e","port":5432,"ratio":0.50},"metadata":{"created_time":"2026-12-06T06:00:00.123456789Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":3}}',
  );
  expect(text('password')).toBe('p&ss<word>');
  expect(text('ratio')).toBe('0.50');
  expect(text('nested')).toBe('{"list":["a",1e2]}');
  // With a transformation that keeps some keys, the literals stay too.
  const kept = transformSecretData(answer.data, answer, parseTransformation({ includes: ['^ratio$'] }));
  expect(Buffer.from(kept.ratio!, 'base64').toString()).toBe('0.50');
});

test('create, no-op when equal, refuse a Secret we do not own, adopt with overwrite', () => {
  const data = { a: b64('1') };
  const created = planWrite(destination, 'ns', owner, data, undefined);
  expect(created.action).toBe('create');
  const secret = created.action === 'create' ? created.secret : undefined;
  expect(secret?.metadata?.labels).toEqual({
    team: 'web',
    [MANAGED_BY_LABEL]: 'vaultbridge-operator',
    'secrets.vaultbridge.dev/owner-uid': 'uid-1',
  });
  expect(planWrite(destination, 'ns', owner, data, { ...secret, type: 'Opaque' }).action).toBe('none');
  expect(planWrite(destination, 'ns', owner, { a: b64('2') }, secret).action).toBe('update');
  const foreign = { metadata: { name: 'app', namespace: 'ns' }, data: { keep: b64('me') } };
  expect(planWrite(destination, 'ns', owner, data, foreign)).toMatchObject({
    action: 'refuse',
    reason: 'DestinationNotOwned',
  });
  expect(planWrite({ ...destination, overwrite: true }, 'ns', owner, data, foreign).action).toBe('update');
  const otherOwners = { metadata: { name: 'app', labels: { [MANAGED_BY_LABEL]: 'vaultbridge-operator' } } };
  expect(planWrite({ ...destination, overwrite: true }, 'ns', owner, data, otherOwners)).toMatchObject({
    action: 'refuse',
    reason: 'DestinationNotOwned',
  });
  expect(planWrite({ ...destination, create: false }, 'ns', owner, data, undefined)).toMatchObject({
    action: 'refuse',
    reason: 'DestinationMissing',
  });
});

test('the cache keeps a MAC instead of the data, and planWrite compares it with the MAC of the new data', () => {
  const key = Buffer.from('cache-test-key');
  const data = { _raw: b64('{"password":"p"}'), password: b64('p') };
  const created = planWrite(destination, 'ns', owner, data, undefined);
  const written: V1Secret = {
    ...(created.action === 'create' ? created.secret : {}),
    metadata: {
      ...(created.action === 'create' ? created.secret.metadata : {}),
      uid: 'secret-uid',
      resourceVersion: '42',
      creationTimestamp: new Date(),
      finalizers: ['keep'],
    },
  };
  const cached = toCachedSecret(key, written);
  expect(cached).toEqual({
    metadata: {
      name: 'app',
      namespace: 'ns',
      resourceVersion: '42',
      labels: written.metadata?.labels,
      annotations: {},
      ownerReferences: written.metadata?.ownerReferences,
    },
    type: 'Opaque',
    dataMac: secretMac(key, data),
  });
  expect(JSON.stringify(cached)).not.toContain(b64('p'));
  // Same data: nothing to write; other data (or no MAC to compare with): an update at the cached version.
  expect(planWrite(destination, 'ns', owner, data, cached, secretMac(key, data)).action).toBe('none');
  const changed = { ...data, password: b64('q') };
  const update = planWrite(destination, 'ns', owner, changed, cached, secretMac(key, changed));
  expect(update).toMatchObject({ action: 'update', secret: { data: changed, metadata: { resourceVersion: '42' } } });
  expect(planWrite(destination, 'ns', owner, data, cached).action).toBe('update');
  // Ownership is still decided from the summary's labels and ownerReferences.
  expect(planWrite(destination, 'ns', { ...owner, uid: 'uid-2' }, data, cached, secretMac(key, data))).toMatchObject({
    action: 'refuse',
    reason: 'DestinationNotOwned',
  });
  // create: false sends the user's Secret back with new data, so a summary can never be the base of that write.
  const unowned = { ...destination, create: false };
  const optedIn = toCachedSecret(key, {
    ...written,
    metadata: { ...written.metadata, annotations: { [ALLOW_SYNC_ANNOTATION]: '*' } },
  });
  expect(planWrite(unowned, 'ns', owner, data, optedIn, secretMac(key, data)).action).toBe('none');
  expect(() => planWrite(unowned, 'ns', owner, changed, optedIn, secretMac(key, changed))).toThrow(
    /create: false needs the Secret as read/,
  );
});

test('VSO group mode: a Secret VSO created for the same object (its label and ownerReference) is taken over, not refused', () => {
  const vsoOwner: Owner = {
    apiVersion: 'secrets.hashicorp.com/v1beta1',
    kind: 'VaultStaticSecret',
    name: 'app',
    uid: 'uid-1',
  };
  const fromVso: V1Secret = {
    metadata: {
      name: 'app',
      namespace: 'ns',
      resourceVersion: '7',
      labels: {
        'app.kubernetes.io/managed-by': 'hashicorp-vso',
        'app.kubernetes.io/component': 'secret-sync',
        [VSO_OWNER_UID_LABEL]: 'uid-1',
      },
      ownerReferences: [
        { apiVersion: 'secrets.hashicorp.com/v1beta1', kind: 'VaultStaticSecret', name: 'app', uid: 'uid-1' },
      ],
    },
    type: 'Opaque',
    data: { a: b64('old') },
  };
  const plan = planWrite(destination, 'ns', vsoOwner, { a: b64('new') }, fromVso);
  expect(plan.action).toBe('update');
  // Ours from now on: our labels (VSO's dropped), the same owner, the same object.
  expect(plan.action === 'update' && plan.secret.metadata?.labels).toEqual({
    team: 'web',
    [MANAGED_BY_LABEL]: 'vaultbridge-operator',
    'secrets.vaultbridge.dev/owner-uid': 'uid-1',
  });
  expect(plan.action === 'update' && plan.secret.metadata?.ownerReferences?.[0]).toMatchObject({
    apiVersion: 'secrets.hashicorp.com/v1beta1',
    uid: 'uid-1',
  });
  // Another object's VSO Secret stays refused.
  const otherObject = {
    ...fromVso,
    metadata: {
      ...fromVso.metadata,
      labels: { [VSO_OWNER_UID_LABEL]: 'uid-2' },
      ownerReferences: [
        { apiVersion: 'secrets.hashicorp.com/v1beta1', kind: 'VaultStaticSecret', name: 'other', uid: 'uid-2' },
      ],
    },
  };
  expect(planWrite(destination, 'ns', vsoOwner, { a: b64('new') }, otherObject)).toMatchObject({
    action: 'refuse',
    reason: 'DestinationNotOwned',
  });
});

describe('create: false writes only Secrets that opted in', () => {
  const data = { a: b64('from-vault') };
  const unowned = { ...destination, create: false };
  const secret = (
    extra: {
      type?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      ownerReferences?: object[];
    } = {},
  ) =>
    ({
      metadata: {
        name: 'app',
        namespace: 'ns',
        labels: extra.labels ?? {},
        ownerReferences: extra.ownerReferences ?? [],
        annotations: { [ALLOW_SYNC_ANNOTATION]: 'VaultStaticSecret/app', ...extra.annotations },
      },
      ...(extra.type ? { type: extra.type } : {}),
      data: { keep: b64('user') },
    }) as V1Secret;

  it.each([
    [
      'no annotation',
      { annotations: { [ALLOW_SYNC_ANNOTATION]: '' } },
      'DestinationNotOptedIn',
      `annotate it with ${ALLOW_SYNC_ANNOTATION}: VaultStaticSecret/app`,
    ],
    [
      'another object named',
      { annotations: { [ALLOW_SYNC_ANNOTATION]: 'VaultStaticSecret/other, VaultDynamicSecret/app' } },
      'DestinationNotOptedIn',
      'does not allow it',
    ],
    [
      'a service-account token',
      { type: 'kubernetes.io/service-account-token' },
      'DestinationProtected',
      'kubernetes.io/service-account-token Secret',
    ],
    [
      'a helm release',
      { type: 'helm.sh/release.v1', labels: { owner: 'helm', name: 'rel' } },
      'DestinationProtected',
      'helm.sh/release.v1 Secret',
    ],
    [
      "an Opaque Secret with helm's owner label",
      { labels: { owner: 'helm' } },
      'DestinationProtected',
      'helm or service-account Secret',
    ],
    ['a bootstrap token', { type: 'bootstrap.kubernetes.io/token' }, 'DestinationProtected', 'never overwritten'],
    [
      'one another controller owns',
      {
        ownerReferences: [
          { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'web', uid: 'c-1', controller: true },
        ],
      },
      'DestinationProtected',
      'controlled by Certificate web',
    ],
    [
      'a non-Opaque type the spec does not name',
      { type: 'kubernetes.io/tls' },
      'DestinationTypeNotAllowed',
      'set spec.destination.type to kubernetes.io/tls',
    ],
  ])('refuses %s', (_case, extra, reason, message) => {
    const plan = planWrite(unowned, 'ns', owner, data, secret(extra));
    expect(plan).toMatchObject({ action: 'refuse', reason });
    expect(plan.action === 'refuse' && plan.message).toContain(message);
  });

  it('writes only data (labels, annotations, owners stay) when the Secret names this object or *', () => {
    for (const value of ['VaultStaticSecret/app', 'VaultPKISecret/x,VaultStaticSecret/app', '*']) {
      const existing = secret({
        annotations: { [ALLOW_SYNC_ANNOTATION]: value },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u' }],
      });
      const plan = planWrite(unowned, 'ns', owner, data, existing);
      expect(plan).toMatchObject({ action: 'update', secret: { data, metadata: existing.metadata } });
    }
  });

  it('a non-Opaque type is written when the spec names it', () => {
    const plan = planWrite(
      { ...unowned, type: 'kubernetes.io/tls' },
      'ns',
      owner,
      data,
      secret({ type: 'kubernetes.io/tls' }),
    );
    expect(plan.action).toBe('update');
  });
});

test('MAC input is Go json.Marshal(map[string][]byte): sorted keys, base64 values, HTML-escaped', () => {
  expect(macInput({ b: b64('2'), a: b64('1'), '<k>': b64('x') })).toBe(
    '{"\\u003ck\\u003e":"eA==","a":"MQ==","b":"Mg=="}',
  );
  const key = Buffer.alloc(16, 7);
  expect(secretMac(key, { a: b64('1') })).toBe(createHmac('sha256', key).update('{"a":"MQ=="}').digest('base64'));
});

test('lastTransitionTime changes only with the status', () => {
  const first = setConditions(
    undefined,
    [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'm' }],
    new Date('2026-01-01T00:00:00Z'),
  );
  const same = setConditions(
    first,
    [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'other' }],
    new Date('2026-01-02T00:00:00Z'),
  );
  expect(same[0]).toMatchObject({ message: 'other', lastTransitionTime: '2026-01-01T00:00:00Z' });
  const changed = setConditions(
    same,
    [{ type: 'Ready', status: 'False', reason: 'X', message: 'm' }],
    new Date('2026-01-03T00:00:00Z'),
  );
  expect(changed[0]?.lastTransitionTime).toBe('2026-01-03T00:00:00Z');
});

describe('transformSecretData (destination.transformation)', () => {
  const fields = { username: 'app', password: 'p<w>d', port: 5432, extra_one: 'x', extra_two: 'y' };
  const decode = (data: Record<string, string>) =>
    Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  const transformation = (spec: object) => parseTransformation(spec)!;

  it('templates render over Secrets, Annotations and Labels; excludes drop raw keys, then includes keep only matches; excludeRaw drops _raw', () => {
    const data = decode(
      transformSecretData(
        fields,
        fields,
        transformation({
          templates: {
            url: { text: 'postgres://{{Secrets.username}}:{{Secrets.password}}@db:{{Secrets.port}}/{{Labels.app}}' },
          },
          excludes: ['^password$'],
          includes: ['^(username|password|port)$'],
          excludeRaw: true,
        }),
        { labels: { app: 'web' } },
      ),
    );
    expect(data).toEqual({ username: 'app', port: '5432', url: 'postgres://app:p<w>d@db:5432/web' });
  });

  it('without a transformation it is buildSecretData, _raw included', () => {
    expect(transformSecretData(fields, fields, undefined)).toEqual(buildSecretData(fields, fields));
  });

  it('a template reading a missing field fails naming the key and the field, not a value', () => {
    expect(() =>
      transformSecretData(fields, fields, transformation({ templates: { dsn: { text: '{{Secrets.host}}' } } })),
    ).toThrow(/template for key "dsn".*host/s);
    try {
      transformSecretData(fields, fields, transformation({ templates: { dsn: { text: '{{Secrets.host}}' } } }));
    } catch (error) {
      expect((error as Error).message).not.toContain('p<w>d');
    }
  });

  it.each([
    [{ templates: { 'bad key!': { text: 'x' } } }, 'spec.destination.transformation.templates'],
    [{ templates: { url: { text: '{{#if}}' } } }, 'spec.destination.transformation.templates.url.text'],
    [{ templates: { url: {} } }, 'spec.destination.transformation.templates.url.text'],
    [{ excludes: ['(unclosed'] }, 'spec.destination.transformation.excludes[0]'],
    [{ includes: ['^ok', '(?=lookahead)'] }, 'spec.destination.transformation.includes[1]'],
    [{ excludes: ['(a)\\1'] }, 'spec.destination.transformation.excludes[0]'],
    [{ transformationRefs: [{ templateRefs: [] }] }, 'spec.destination.transformation.transformationRefs[0].name'],
    [
      { transformationRefs: [{ name: 'shared', templateRefs: [{ name: 'url', keyOverride: 'bad key' }] }] },
      'spec.destination.transformation.transformationRefs[0].templateRefs[0].keyOverride',
    ],
  ])('refuses %o naming %s', (spec, field) => {
    expect(() => parseTransformation(spec)).toThrow(SpecError);
    expect(() => parseTransformation(spec)).toThrow(field);
  });
});

// VSO's templates are Go text/template with sprig through VSO's allowlist; these are in the shapes of
// VSO's documentation (printf over get, metadata and annotations, a define from sourceTemplates).
describe('Go templates (VSO)', () => {
  const fields = { username: 'app', password: 'p<w>d', port: 5432 };
  const decode = (data: Record<string, string>) =>
    Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  const context = {
    metadata: { version: 3 },
    annotations: { 'myapp.config/postgres-host': 'db.internal:5432' },
    labels: { app: 'web' },
  };

  it('renders .Secrets, .Metadata, .Annotations and .Labels with sprig, unchanged from VSO', () => {
    const data = decode(
      transformSecretData(
        fields,
        fields,
        parseTransformation({
          excludeRaw: true,
          excludes: ['.*'],
          templates: {
            password: { text: '{{- printf "password=%s" (get .Secrets "password") -}}' },
            version: { text: '{{- printf "version=%v" (get .Metadata "version") -}}' },
            url: {
              text: '{{- $host := get .Annotations "myapp.config/postgres-host" -}}\npostgresql://{{ .Secrets.username }}:{{ .Secrets.password | urlquery }}@{{ $host }}/{{ .Labels.app | upper }}',
            },
            env: { text: '{{- range $k, $v := .Secrets }}{{ $k | upper }}={{ $v | toString | quote }}\n{{ end -}}' },
          },
        }),
        context,
      ),
    );
    expect(data).toEqual({
      password: 'password=p<w>d',
      version: 'version=3',
      url: 'postgresql://app:p%3Cw%3Ed@db.internal:5432/WEB',
      env: 'PASSWORD="p<w>d"\nPORT="5432"\nUSERNAME="app"\n',
    });
  });

  it('numbers from Vault are json.Number, as VSO sees them: they print as sent and feed sprig math', () => {
    const data = decode(
      transformSecretData(
        fields,
        fields,
        parseTransformation({
          excludeRaw: true,
          excludes: ['.*'],
          templates: {
            next: { text: '{{ .Secrets.port }}/{{ add .Secrets.port 1 }}/{{ printf "%T" .Secrets.port }}' },
          },
        }),
      ),
    );
    expect(data).toEqual({ next: '5432/5433/json.Number' });
  });

  it('a handlebars template is still recognised without templateEngine, and templateEngine forces an engine', () => {
    const auto = decode(
      transformSecretData(
        fields,
        fields,
        parseTransformation({
          excludeRaw: true,
          excludes: ['.*'],
          templates: { u: { text: 'user {{Secrets.username}}' } },
        }),
      ),
    );
    expect(auto).toEqual({ u: 'user app' });
    expect(() =>
      parseTransformation({ templateEngine: 'go', templates: { u: { text: 'user {{Secrets.username}}' } } }),
    ).toThrow(/templates\.u\.text.*function "Secrets" not defined/);
    const forced = decode(
      transformSecretData(
        fields,
        fields,
        parseTransformation({
          templateEngine: 'handlebars',
          excludeRaw: true,
          excludes: ['.*'],
          templates: { u: { text: '{{Secrets.username}}' } },
        }),
      ),
    );
    expect(forced).toEqual({ u: 'app' });
    expect(() => parseTransformation({ templateEngine: 'jinja' })).toThrow(/templateEngine.*go or handlebars/);
  });

  it('a Go template that fails names the key and line, never the value', () => {
    let message = '';
    try {
      transformSecretData(
        fields,
        fields,
        parseTransformation({ templates: { bad: { text: 'ok\n{{ range .Secrets.password }}{{ end }}' } } }),
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('template for key "bad"');
    expect(message).toContain('line 2');
    expect(message).toContain("range can't iterate over <redacted>");
    expect(message).not.toContain('p<w>d');
  });

  it('a Go syntax error is refused naming the field, line and what is wrong', () => {
    expect(() => parseTransformation({ templates: { dsn: { text: 'a\n{{ if .Secrets.x }}' } } })).toThrow(
      /spec\.destination\.transformation\.templates\.dsn\.text.*line 2.*unexpected EOF/s,
    );
  });
});
