// The audiences the Kubernetes API server accepts tokens for. A service-account token minted for one of
// them and handed to a VaultConnection's address would let whoever runs that address call the API server
// as the service account (a confused deputy: the tenant who writes a VaultAuth need not have that
// power), so such audiences are refused in VaultAuth specs.
import fs from 'node:fs';
import type { Logger } from '@vaultbridge/core';
import type { KubeJson } from '../runtime/kube-json.ts';

/** Audiences API servers commonly accept (the default issuer on most distributions), always refused. */
export const WELL_KNOWN_API_AUDIENCES = [
  'https://kubernetes.default.svc',
  'https://kubernetes.default.svc.cluster.local',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'kubernetes',
  'api',
];

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The API server's audiences: the well-known ones, the service-account issuer (the default of
 * `--api-audiences`) from `/.well-known/openid-configuration`, and the `aud` of the operator's own
 * in-cluster token when it has one. Lookups that fail leave the rest in place.
 */
export async function discoverApiAudiences(
  kube: KubeJson,
  logger: Logger,
  tokenPath = IN_CLUSTER_TOKEN,
): Promise<Set<string>> {
  const audiences = new Set(WELL_KNOWN_API_AUDIENCES);
  try {
    // 10 s, not the default 30: the first VaultAuth waits for it, and a failure only narrows the check.
    const answer = await kube.http.request<{ issuer?: unknown } | undefined>(
      'GET',
      '/.well-known/openid-configuration',
      { signal: AbortSignal.timeout(10_000) },
    );
    const issuer = answer?.issuer;
    if (typeof issuer === 'string' && issuer !== '') audiences.add(issuer);
  } catch (error) {
    logger.warn(
      { err: error },
      "could not read the service-account issuer; refusing only the well-known API audiences and the in-cluster token's",
    );
  }
  for (const audience of tokenAudiences(tokenPath)) audiences.add(audience);
  return audiences;
}

/** The `aud` claim of the JWT in `file` (none when there is no such file or it is not a JWT). */
function tokenAudiences(file: string): string[] {
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return [];
  }
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud?: unknown;
    };
    const aud = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
    return aud.filter((item): item is string => typeof item === 'string');
  } catch {
    return [];
  }
}
