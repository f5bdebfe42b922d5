// @kubernetes/client-node 2.x builds a new undici Agent for every API request (KubeConfig
// .applySecurityAuthentication → createDispatcher), so no connection is ever reused: each request pays
// a TLS handshake, and each Agent keeps its idle keep-alive socket and TLS context until it times out.
// Measured with the operator syncing 200 objects: 31 Secrets/s and 547 MiB RSS. This keeps one
// dispatcher per (cluster, TLS material) and hands it out again; new material (a rotated client
// certificate file is re-read per request) gets a new one, and the oldest beyond a few are closed.
import { createHash, type Hash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

interface Closable {
  close(): Promise<void>;
}

type CreateDispatcher = (
  cluster: { name?: string; server?: string; proxyUrl?: string } | null,
  agentOptions: Record<string, unknown>,
) => Closable | undefined;

const PATCHED = Symbol.for('vaultbridge.kube-connection-reuse');
/** Distinct TLS identities kept open at once (a rotation makes a second one; more is churn). */
const MAX_DISPATCHERS = 4;

/** Feeds `value` to the hash; Buffers as they are (a base64 copy of the certificate per request cost CPU at scale). */
function material(hash: Hash, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Buffer.isBuffer(value)) hash.update(value);
  else if (Array.isArray(value)) for (const item of value) material(hash.update('|'), item);
  else hash.update(String(value));
}

/** A digest of what makes a connection: where to, and with which CA, client certificate and key. */
function connectionKey(cluster: Parameters<CreateDispatcher>[0], options: Record<string, unknown>): string {
  const hash = createHash('sha256');
  for (const part of [
    cluster?.name,
    cluster?.server,
    cluster?.proxyUrl,
    options.ca,
    options.cert,
    options.key,
    options.pfx,
    options.passphrase,
    options.rejectUnauthorized,
    options.servername,
  ]) {
    material(hash, part);
    hash.update('\u0000');
  }
  return hash.digest('hex');
}

/**
 * Makes `config` reuse its API connections. Idempotent; returns `config`. When the client library no
 * longer has the method this relies on, `config` is left as it is (correct, only slower) — the test
 * `connection-reuse.test.ts` fails then, so an upgrade cannot lose the reuse silently.
 */
export function reuseKubeConnections(config: KubeConfig): KubeConfig {
  const target = config as unknown as { createDispatcher?: CreateDispatcher; [PATCHED]?: true };
  if (target[PATCHED] === true || typeof target.createDispatcher !== 'function') return config;
  const create = target.createDispatcher.bind(config);
  const dispatchers = new Map<string, Closable | undefined>();
  // The same objects as last time (inline kubeconfig data, or files not re-read): the same key, without hashing again.
  let last: { parts: unknown[]; key: string } | undefined;
  target.createDispatcher = (cluster, agentOptions) => {
    const parts = [
      cluster,
      cluster?.server,
      agentOptions.ca,
      agentOptions.cert,
      agentOptions.key,
      agentOptions.pfx,
      agentOptions.passphrase,
      agentOptions.rejectUnauthorized,
      agentOptions.servername,
    ];
    const previous = last;
    const key =
      previous !== undefined && parts.every((part, index) => part === previous.parts[index])
        ? previous.key
        : connectionKey(cluster, agentOptions);
    last = { parts, key };
    if (dispatchers.has(key)) {
      const dispatcher = dispatchers.get(key);
      // Most recently used last, so eviction drops the identity not seen for longest.
      dispatchers.delete(key);
      dispatchers.set(key, dispatcher);
      return dispatcher;
    }
    const dispatcher = create(cluster, agentOptions);
    dispatchers.set(key, dispatcher);
    if (dispatchers.size > MAX_DISPATCHERS) {
      const [oldestKey, oldest] = dispatchers.entries().next().value as [string, Closable | undefined];
      dispatchers.delete(oldestKey);
      // close() lets requests in flight finish; idle sockets go at once.
      void oldest?.close().catch(() => undefined);
    }
    return dispatcher;
  };
  target[PATCHED] = true;
  return config;
}
