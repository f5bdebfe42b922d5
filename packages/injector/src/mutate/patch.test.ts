import { describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import jsonPatch from 'fast-json-patch';
import { appContainer, pod, TOKEN_MOUNT, VAULT_ADDR } from '../../test/support/pods.ts';
import { parseAnnotations } from '../annotations/parse.ts';
import { mutatePod } from './mutate.ts';
import { createPatch } from './patch.ts';

// createPatch is fast-json-patch's compare without the deep clones; these check it gives the library's
// exact ops, in the same order, for the pods the injector produces and for the awkward JSON cases.

function injected(p: V1Pod): V1Pod {
  return mutatePod(p, parseAnnotations(p, { vaultAddress: VAULT_ADDR }, { namespace: 'app' }));
}

const PODS: Record<string, V1Pod> = {
  'one secret': pod({ 'agent-inject-secret-db': 'secret/data/db' }),
  'no volumes': pod({ 'agent-inject-secret-db': 'secret/data/db' }, { volumes: undefined }),
  'init-first with existing init containers': pod(
    { 'agent-inject-secret-db': 'secret/data/db', 'agent-init-first': 'true' },
    {
      initContainers: [
        { name: 'migrate', image: 'busybox', volumeMounts: [{ ...TOKEN_MOUNT }] },
        { name: 'seed', image: 'busybox' },
      ],
    },
  ),
  'native sidecar': pod({ 'agent-inject-secret-db': 'secret/data/db', 'agent-native-sidecar': 'true' }),
  'pre-populate-only, two containers, custom paths': pod(
    {
      'agent-pre-populate-only': 'true',
      'agent-inject-secret-a': 'secret/data/a',
      'agent-inject-secret-b': 'secret/data/b',
      'secret-volume-path-b': '/etc/b',
      'agent-inject-containers': 'app, other',
    },
    { containers: [appContainer(), appContainer('other'), appContainer('third')] },
  ),
  'share process namespace, json patch, copy mounts, extra secret': pod(
    {
      'agent-inject-secret-db': 'secret/data/db',
      'agent-share-process-namespace': 'true',
      'agent-json-patch': '[{"op":"replace","path":"/name","value":"renamed"},{"op":"remove","path":"/env/0"}]',
      'agent-copy-volume-mounts': 'app',
      'agent-extra-secret': 'extra',
    },
    { containers: [appContainer('app', { volumeMounts: [{ ...TOKEN_MOUNT }, { name: 'data', mountPath: '/data' }] })] },
  ),
};

describe("createPatch gives fast-json-patch compare's ops", () => {
  test.each(Object.entries(PODS))('%s', (_name, p) => {
    const after = injected(p);
    const ours = createPatch(p, after);
    // the pod as JSON, as createPatch compares it (a typed pod may carry undefined fields)
    expect(ours).toEqual(jsonPatch.compare(JSON.parse(JSON.stringify(p)), after));
    expect(ours.length).toBeGreaterThan(0);
    expect(jsonPatch.applyPatch(structuredClone(p), structuredClone(ours), true).newDocument).toEqual(
      JSON.parse(JSON.stringify(after)),
    );
  });

  const documents: [string, object, object][] = [
    ['array shrinks by several elements (removed from the end first)', { a: [1, 2, 3, 4] }, { a: [1] }],
    ['array grows', { a: [1] }, { a: [1, 2, 3] }],
    ['array element changes type', { a: [1, { b: 2 }, [3]] }, { a: [{ b: 2 }, 1, { c: 3 }] }],
    ['object becomes array and back', { a: { 0: 'x' }, b: ['x'] }, { a: ['x'], b: { 0: 'x' } }],
    ['keys with ~ and / are escaped', { 'a/b': 1, 'c~d': 2 }, { 'a/b': 2, 'c~d': 3, 'e/~f': 4 }],
    ['null and primitives', { a: null, b: 1, c: 'x', d: true }, { a: { x: 1 }, b: null, c: 'y', d: false }],
    ['an undefined value in the new document is a removal', { a: 1, b: 2 }, { a: undefined, b: 2, c: undefined }],
    ['removed and added keys together', { a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2], d: 1 }, e: [] }],
    ['same object is no change', { a: { deep: [1, 2, { x: 1 }] } }, { a: { deep: [1, 2, { x: 1 }] } }],
  ];
  test.each(documents)('%s', (_name, before, after) => {
    expect(createPatch(before as V1Pod, after as V1Pod, { beforeIsJsonData: true })).toEqual(
      jsonPatch.compare(before, after),
    );
  });

  test('a pod with undefined fields (a typed object, not JSON) is compared as JSON', () => {
    const before: V1Pod = {
      metadata: { name: 'web', annotations: undefined },
      spec: { containers: [], volumes: undefined },
    };
    const after: V1Pod = {
      metadata: { name: 'web', annotations: { a: 'b' } },
      spec: { containers: [], volumes: [{ name: 'v' }] },
    };
    expect(createPatch(before, after).map((op) => `${op.op} ${op.path}`)).toEqual([
      'add /spec/volumes',
      'add /metadata/annotations',
    ]);
  });
});
