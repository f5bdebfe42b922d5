// The init → sidecar handover (Vault Agent's `cache { persist "kubernetes" { … } }`, which vault-k8s
// sets up on the `vault-agent-cache` memory volume): init leaves its auto-auth token and the leased
// answers it rendered with; the sidecar adopts them instead of logging in and asking Vault for new
// credentials, so a dynamic secret is issued once per pod. As in Vault Agent the file is encrypted
// (AES-256-GCM) with a fresh key that only Vault keeps: init response-wraps it (`sys/wrapping/wrap`, in
// Vault's default policy), the file holds the single-use wrapping token, and the sidecar unwraps it.
// The sidecar deletes the file once read (Vault Agent's keep_after_import=false).

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { registerSecret, type VaultClient } from '@vaultbridge/core';
import type { AgentPaths } from '../paths.ts';
import type { CachedEntry } from './lease-cache.ts';

/** The file in the persist directory (Vault Agent names its BoltDB file vault-agent-cache.db). */
export const PERSIST_FILE = 'vaultbridge-agent-cache.json';
const FORMAT = 1;
// Binds the ciphertext to its purpose: a file from another program does not decrypt.
const AAD = Buffer.from('vaultbridge-agent persistent cache v1');

export interface HandoverState {
  /** the auto-auth token init used */
  readonly token: string;
  readonly entries: readonly CachedEntry[];
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

function fileOf(paths: AgentPaths, dir: string): string {
  return paths.hostPath(path.posix.join(dir, PERSIST_FILE));
}

/** init: encrypt `state` under a new key, wrap the key in Vault for `wrapTtlSeconds`, write the file (0600). */
export async function writeHandover(client: VaultClient, paths: AgentPaths, dir: string, state: HandoverState, wrapTtlSeconds: number): Promise<void> {
  const key = randomBytes(32);
  const wrapped = await client.write('sys/wrapping/wrap', { key: key.toString('base64') }, { headers: { 'X-Vault-Wrap-TTL': `${Math.max(60, Math.floor(wrapTtlSeconds))}s` } });
  const wrappedKey = wrapped?.wrap_info?.token;
  if (wrappedKey === undefined || wrappedKey === '') throw new PersistError('Vault did not response-wrap the cache key (sys/wrapping/wrap answered without wrap_info)');
  registerSecret(wrappedKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(state), 'utf8'), cipher.final()]);
  const file: PersistedFile = { format: FORMAT, wrappedKey, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
  const target = fileOf(paths, dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify(file), { mode: 0o600, flag: 'wx' });
  await fs.rename(temporary, target);
}

/** sidecar: undefined when init left nothing; the state otherwise. The file is deleted either way. */
export async function readHandover(client: VaultClient, paths: AgentPaths, dir: string): Promise<HandoverState | undefined> {
  const target = fileOf(paths, dir);
  let text: string;
  try {
    text = await fs.readFile(target, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PersistError(`cannot read the persistent cache ${path.posix.join(dir, PERSIST_FILE)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  await fs.rm(target, { force: true });
  let file: PersistedFile;
  try {
    file = JSON.parse(text) as PersistedFile;
  } catch {
    throw new PersistError('the persistent cache file is not JSON');
  }
  if (file.format !== FORMAT || typeof file.wrappedKey !== 'string') throw new PersistError(`the persistent cache file has format ${String(file.format)}, expected ${FORMAT}`);
  registerSecret(file.wrappedKey);
  let keyText: unknown;
  try {
    const unwrapped = await client.withToken(file.wrappedKey).write<{ key?: unknown }>('sys/wrapping/unwrap', {});
    keyText = unwrapped?.data?.key;
  } catch (error) {
    throw new PersistError(`cannot unwrap the persistent cache key (already used or expired): ${(error as Error).message}`, { cause: error });
  }
  if (typeof keyText !== 'string') throw new PersistError('the unwrapped persistent cache key is missing');
  try {
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyText, 'base64'), Buffer.from(file.iv, 'base64'));
    decipher.setAAD(AAD);
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    const state = JSON.parse(plain) as HandoverState;
    registerSecret(state.token);
    return state;
  } catch {
    throw new PersistError('the persistent cache file does not decrypt (altered, or written for another key)');
  }
}
