// The application pod a mount is for, on the real API server: the TokenRequest fallback binds the token it
// requests to this pod's uid, so a test needs the uid the API server gave it.
import type { TestStack } from '@vaultbridge/testenv';

/** Creates pod `name` running as `serviceAccount` in `namespace` and returns its uid. */
export async function createAppPod(
  stack: TestStack,
  namespace: string,
  name: string,
  serviceAccount: string,
): Promise<string> {
  const pod = await stack.kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: { serviceAccountName: serviceAccount, containers: [{ name: 'app', image: 'app:local' }] },
    },
  });
  const uid = pod.metadata?.uid;
  if (!uid) throw new Error(`the API server created pod ${namespace}/${name} without a uid`);
  return uid;
}
