import { cleanServerFields } from './cluster.ts';
import { formatManifests, ManifestError, parseManifests } from './manifests.ts';

describe('reading manifests', () => {
  test('multi-document YAML, JSON and kind: List are read as objects; empty documents are skipped', () => {
    const text =
      '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}}]}\n';
    expect(parseManifests(text, 'in.yaml').map((m) => m.kind)).toEqual(['ConfigMap', 'Secret']);
  });

  test.each([
    ['a scalar document', 'just text\n', /document 1 is not an object/],
    ['broken YAML', 'a: [1, 2\n', /in.yaml: document 1 is not valid YAML/],
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
      /document 1 cannot be read: Excessive alias count/,
    ],
  ])('%s is refused with the input named', (_name, text, message) => {
    expect(() => parseManifests(text, 'in.yaml')).toThrow(ManifestError);
    expect(() => parseManifests(text, 'in.yaml')).toThrow(message);
  });

  test('output is YAML documents that read back the same', () => {
    const manifests = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'multi\nline' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b' } },
    ];
    expect(parseManifests(formatManifests(manifests), 'out')).toEqual(manifests);
  });
});

test('server-set fields are left out of objects read from the API server', () => {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'j',
      namespace: 'n',
      uid: 'u',
      resourceVersion: '9',
      generation: 1,
      creationTimestamp: 'now',
      managedFields: [{}],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
    },
    spec: {
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } },
      template: {
        metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'u', 'job-name': 'j', app: 'x' } },
        spec: { containers: [] },
      },
    },
    status: { succeeded: 1 },
  };
  expect(cleanServerFields(job)).toEqual({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', namespace: 'n', annotations: { keep: 'me' } },
    spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [] } } },
  });
});
