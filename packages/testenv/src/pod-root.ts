// A local directory standing in for a pod's filesystem. The e2e tests run the agents (ours and HashiCorp's)
// as processes, not in pods: every absolute path the webhook wrote (the service-account token, the secrets
// volume, the token sink) is moved under a temporary root, and the token is put where the kubelet would
// project it. One mapping, so the agent's and the injector's tests move paths the same way.
import fs from 'node:fs';
import path from 'node:path';
import type { TestStack } from './handle.ts';
import type { TokenOptions } from './kube-admin.ts';

/** Where `pathInPod` lands under `root`; its directory is created, as the volume mounted there would be. */
export function inPodRoot(root: string, pathInPod: string): string {
  const local = path.join(root, pathInPod);
  fs.mkdirSync(path.dirname(local), { recursive: true });
  return local;
}

/** A real TokenRequest token of the service account, written at the pod's token path under `root`. */
export async function writePodToken(
  stack: TestStack,
  root: string,
  tokenPathInPod: string,
  namespace: string,
  serviceAccount: string,
  options: TokenOptions = {},
): Promise<void> {
  const { token } = await stack.requestToken(namespace, serviceAccount, options);
  fs.writeFileSync(inPodRoot(root, tokenPathInPod), token);
}
