// The init → sidecar handover (Vault Agent's `cache { persist "kubernetes" { … } }`, which vault-k8s
// sets up on the `vault-agent-cache` memory volume): init leaves its auto-auth token and the leased
// answers it rendered with; the sidecar adopts them instead of logging in and asking Vault for new
// credentials, so a dynamic secret is issued once per pod. As in Vault Agent the file is encrypted
// (AES-256-GCM) with a fresh key that only Vault keeps: init response-wraps it (`sys/wrapping/wrap`, in
// Vault's default policy), the file holds the single-use wrapping token, and the sidecar unwraps it.
// The sidecar deletes the file once read (Vault Agent's keep_after_import=false).
// Without the cache the same file goes, under a hidden name, on the secrets volume the app also mounts
// (handover.ts says where, and the README's threat model why that is acceptable).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { registerSecret, type VaultClient } from '@vaultbridge/core';
import type { AgentPaths } from '../paths.ts';
import type { CachedEntry } from './lease-cache.ts';

/** The file in the persist directory (Vault Agent names its BoltDB file vault-agent-cache.db). */
export const PERSIST_FILE = 'vaultbridge-agent-cache.json';
/** The file on the shared secrets volume (no cache): hidden, as the env feature's `.vaultbridge-env`. */
export const HANDOVER_FILE = '.vaultbridge-handover';
const FORMAT = 1;
// Binds the ciphertext to its purpose: a file from another program does not decrypt.
const AAD = Buffer.from('vaultbridge-agent persistent cache v1');
// Init's leases and token are a few KiB; anything much larger was not written by init.
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export interface HandoverState {
  /** the auto-auth token init used */
  readonly token: string;
  readonly entries: readonly CachedEntry[];
}

/** Who must have issued the handed-over token: the sidecar's own auth mount (and role, when it has one). */
export interface HandoverIdentity {
  /** e.g. `auth/kubernetes` */
  readonly mountPath: string;
  readonly role?: string;
}

interface PersistedFile {
  readonly format: typeof FORMAT;
  /** response-wrapping token holding the key */
  readonly wrappedKey: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export class PersistError extends Error {
  readonly code = 'AGENT_CACHE_PERSIST';
}

/** init: encrypt `state` under a new key, wrap the key in Vault for `wrapTtlSeconds`, write `file` (0600). */
export async function writeHandover(
  client: VaultClient,
  paths: AgentPaths,
  file: string,
  state: HandoverState,
  wrapTtlSeconds: number,
): Promise<void> {
  const key = randomBytes(32);
  const wrapped = await client.write(
    'sys/wrapping/wrap',
    { key: key.toString('base64') },
    { headers: { 'X-Vault-Wrap-TTL': `${Math.max(60, Math.floor(wrapTtlSeconds))}s` } },
  );
  const wrappedKey = wrapped?.wrap_info?.token;
  if (wrappedKey === undefined || wrappedKey === '')
    throw new PersistError('Vault did not response-wrap the cache key (sys/wrapping/wrap answered without wrap_info)');
  registerSecret(wrappedKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(state), 'utf8'), cipher.final()]);
  const persisted: PersistedFile = {
    format: FORMAT,
    wrappedKey,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
  const target = paths.hostPath(file);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(persisted), { mode: 0o600, flag: 'wx' });
  await fs.rename(temporary, target);
}

/**
 * Reads `file` without following a symlink or blocking on a FIFO, and deletes it whatever it holds:
 * undefined when there is none. On the shared secrets volume the app could have put anything there.
 */
async function takeFile(target: string, shown: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await fs.open(target, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    await fs.rm(target, { force: true }).catch(() => undefined);
    throw new PersistError(
      `cannot read the handover file ${shown} (${code === 'ELOOP' ? 'a symlink' : (code ?? 'error')})`,
    );
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new PersistError(`the handover file ${shown} is not a regular file`);
    if (stat.size > MAX_FILE_BYTES)
      throw new PersistError(`the handover file ${shown} is larger than ${MAX_FILE_BYTES} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
    await fs.rm(target, { force: true }).catch(() => undefined);
  }
}

/**
 * sidecar: undefined when init left nothing; the state otherwise. The file is deleted either way, before
 * the key is unwrapped. With `identity`, a token that the sidecar's own auth mount and role did not issue
 * is refused (someone else's file), so the sidecar logs in itself.
 */
export async function readHandover(
  client: VaultClient,
  paths: AgentPaths,
  file: string,
  identity?: HandoverIdentity,
): Promise<HandoverState | undefined> {
  const text = await takeFile(paths.hostPath(file), file);
  if (text === undefined) return undefined;
  let persisted: PersistedFile;
  try {
    persisted = JSON.parse(text) as PersistedFile;
  } catch {
    throw new PersistError('the handover file is not JSON');
  }
  if (
    persisted === null ||
    typeof persisted !== 'object' ||
    persisted.format !== FORMAT ||
    typeof persisted.wrappedKey !== 'string'
  ) {
    throw new PersistError(
      `the handover file has format ${String((persisted as Partial<PersistedFile> | null)?.format)}, expected ${FORMAT}`,
    );
  }
  registerSecret(persisted.wrappedKey);
  let keyText: unknown;
  try {
    const unwrapped = await client.withToken(persisted.wrappedKey).write<{ key?: unknown }>('sys/wrapping/unwrap', {});
    keyText = unwrapped?.data?.key;
  } catch (error) {
    throw new PersistError(`cannot unwrap the handover key (already used or expired): ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof keyText !== 'string') throw new PersistError('the unwrapped handover key is missing');
  let state: HandoverState;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(keyText, 'base64'),
      Buffer.from(String(persisted.iv), 'base64'),
    );
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(String(persisted.tag), 'base64'));
    const plain = Buffer.concat([
      decipher.update(Buffer.from(String(persisted.ciphertext), 'base64')),
      decipher.final(),
    ]).toString('utf8');
    state = JSON.parse(plain) as HandoverState;
  } catch {
    throw new PersistError('the handover file does not decrypt (altered, or written for another key)');
  }
  if (typeof state.token !== 'string' || state.token === '' || !Array.isArray(state.entries))
    throw new PersistError('the handover holds no token');
  registerSecret(state.token);
  if (identity !== undefined) await checkIdentity(client, state.token, identity);
  return state;
}

/** The token must come from `<mountPath>/login` (and the same role): anything else is not init's. */
async function checkIdentity(client: VaultClient, token: string, identity: HandoverIdentity): Promise<void> {
  let data: { path?: unknown; meta?: Record<string, unknown> | null } | undefined;
  try {
    data = (
      await client
        .withToken(token)
        .read<{ path?: unknown; meta?: Record<string, unknown> | null }>('auth/token/lookup-self')
    ).data;
  } catch (error) {
    throw new PersistError(`the handed-over token is not accepted by Vault: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const loginPath = `${identity.mountPath.replace(/\/+$/, '')}/login`;
  const role = data?.meta?.role ?? data?.meta?.role_name;
  if (data?.path !== loginPath || (identity.role !== undefined && role !== undefined && role !== identity.role)) {
    throw new PersistError(
      `the handed-over token was not issued by ${loginPath}${identity.role === undefined ? '' : ` for role ${identity.role}`}`,
    );
  }
}
