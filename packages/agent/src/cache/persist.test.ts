// The handover file's fallback paths, with a stand-in for the three Vault calls it makes (wrap, unwrap,
// lookup-self): whatever is wrong with the file, the sidecar gets a PersistError naming why (and logs in),
// never a secret in the message, and the file is gone afterwards. The real-Vault path:
// test/agent-handover-e2e.test.ts.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VaultClient } from '@vaultbridge/core';
import { AGENT_CONFIG_DEFAULTS, type AgentConfig } from '../contract/index.ts';
import { agentPaths } from '../paths.ts';
import { handoverLocation } from './handover.ts';
import { HANDOVER_FILE, PersistError, readHandover, writeHandover, type HandoverState } from './persist.ts';

const FILE = `/vault/secrets/${HANDOVER_FILE}`;
const TOKEN = 'hvs.init-agent-token';

/** Vault's behaviour for these calls: a wrapping token unwraps once; lookup-self knows the tokens it issued. */
class FakeVault {
  readonly wrapped = new Map<string, Record<string, unknown>>();
  readonly tokens = new Map<string, { path: string; meta: Record<string, string> }>([
    [TOKEN, { path: 'auth/kubernetes/login', meta: { role: 'app' } }],
  ]);
  private next = 0;

  client(token?: string): VaultClient {
    return {
      withToken: (other: string) => this.client(other),
      write: async (apiPath: string, body: Record<string, unknown>) => {
        if (apiPath === 'sys/wrapping/wrap') {
          const wrapping = `hvs.wrapping-${++this.next}`;
          this.wrapped.set(wrapping, body);
          return { wrap_info: { token: wrapping } };
        }
        if (apiPath === 'sys/wrapping/unwrap') {
          const data = token === undefined ? undefined : this.wrapped.get(token);
          if (data === undefined) throw new Error('permission denied (wrapping token is not valid or does not exist)');
          this.wrapped.delete(token!);
          return { data };
        }
        throw new Error(`unexpected write ${apiPath}`);
      },
      read: async (apiPath: string) => {
        const known = token === undefined ? undefined : this.tokens.get(token);
        if (apiPath !== 'auth/token/lookup-self' || known === undefined) throw new Error('permission denied');
        return { data: known };
      },
    } as unknown as VaultClient;
  }
}

const identity = { mountPath: 'auth/kubernetes', role: 'app' };
const state: HandoverState = { token: TOKEN, entries: [] };
let root: string;
let vault: FakeVault;
const paths = () => agentPaths(root);
const onDisk = () => path.join(root, FILE);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'handover-unit-'));
  vault = new FakeVault();
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

async function refusal(): Promise<PersistError> {
  const error = await readHandover(vault.client(), paths(), FILE, identity).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PersistError);
  return error as PersistError;
}

describe('readHandover', () => {
  test("init's file round-trips once: the token back, the file deleted, nothing readable in it", async () => {
    await writeHandover(vault.client(TOKEN), paths(), FILE, state, 900);
    expect(fs.statSync(onDisk()).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(onDisk(), 'utf8')).not.toContain(TOKEN);
    expect(await readHandover(vault.client(), paths(), FILE, identity)).toEqual(state);
    expect(fs.existsSync(onDisk())).toBe(false);
  });

  test('no file: undefined (the sidecar logs in)', async () => {
    expect(await readHandover(vault.client(), paths(), FILE, identity)).toBeUndefined();
  });

  test('the key was unwrapped first (by the app): refused, file gone, no token in the message', async () => {
    await writeHandover(vault.client(TOKEN), paths(), FILE, state, 900);
    const wrapping = (JSON.parse(fs.readFileSync(onDisk(), 'utf8')) as { wrappedKey: string }).wrappedKey;
    await vault.client(wrapping).write('sys/wrapping/unwrap', {});
    const error = await refusal();
    expect(error.message).toMatch(/^cannot unwrap the handover key \(already used or expired\)/);
    expect(error.message).not.toContain(wrapping);
    expect(error.message).not.toContain(TOKEN);
    expect(fs.existsSync(onDisk())).toBe(false);
  });

  test('not JSON: refused and deleted', async () => {
    fs.mkdirSync(path.dirname(onDisk()), { recursive: true });
    fs.writeFileSync(onDisk(), 'garbage');
    expect((await refusal()).message).toBe('the handover file is not JSON');
    expect(fs.existsSync(onDisk())).toBe(false);
  });

  test('altered ciphertext: refused as not decrypting', async () => {
    await writeHandover(vault.client(TOKEN), paths(), FILE, state, 900);
    const file = JSON.parse(fs.readFileSync(onDisk(), 'utf8')) as { ciphertext: string };
    const bytes = Buffer.from(file.ciphertext, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    fs.writeFileSync(onDisk(), JSON.stringify({ ...file, ciphertext: bytes.toString('base64') }));
    expect((await refusal()).message).toBe('the handover file does not decrypt (altered, or written for another key)');
  });

  test('a symlink is not followed: refused, the link removed, its target untouched', async () => {
    fs.mkdirSync(path.dirname(onDisk()), { recursive: true });
    const target = path.join(root, 'elsewhere');
    fs.writeFileSync(target, 'keep me');
    fs.symlinkSync(target, onDisk());
    expect((await refusal()).message).toBe(`cannot read the handover file ${FILE} (a symlink)`);
    expect(fs.existsSync(onDisk())).toBe(false);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep me');
  });

  test('a FIFO does not block the sidecar: refused as not a regular file', async () => {
    fs.mkdirSync(path.dirname(onDisk()), { recursive: true });
    execFileSync('mkfifo', [onDisk()]);
    expect((await refusal()).message).toBe(`the handover file ${FILE} is not a regular file`);
    expect(fs.existsSync(onDisk())).toBe(false);
  });

  test('a token another role (or mount) issued is not adopted', async () => {
    vault.tokens.set('hvs.other', { path: 'auth/kubernetes/login', meta: { role: 'admin' } });
    await writeHandover(vault.client('hvs.other'), paths(), FILE, { token: 'hvs.other', entries: [] }, 900);
    expect((await refusal()).message).toBe(
      'the handed-over token was not issued by auth/kubernetes/login for role app',
    );
    vault.tokens.set('hvs.userpass', { path: 'auth/userpass/login/someone', meta: {} });
    await writeHandover(vault.client('hvs.userpass'), paths(), FILE, { token: 'hvs.userpass', entries: [] }, 900);
    expect((await refusal()).message).toBe(
      'the handed-over token was not issued by auth/kubernetes/login for role app',
    );
  });

  test('a token Vault no longer accepts is refused', async () => {
    await writeHandover(vault.client(TOKEN), paths(), FILE, { token: 'hvs.revoked', entries: [] }, 900);
    const error = await refusal();
    expect(error.message).toMatch(/^the handed-over token is not accepted by Vault/);
    expect(error.message).not.toContain('hvs.revoked');
  });
});

describe('handoverLocation', () => {
  const base = {
    ...AGENT_CONFIG_DEFAULTS,
    version: 1,
    mode: 'sidecar',
    vault: { address: 'https://vault:8200', tlsSkipVerify: false },
    auth: {
      type: 'kubernetes',
      mountPath: 'auth/kubernetes',
      role: 'app',
      serviceAccountTokenPath: '/var/run/secrets/token',
      config: {},
      exitOnError: false,
    },
    secrets: [],
    templateConfig: { exitOnRetryFailure: true },
  } as unknown as AgentConfig;

  test('default pods: the hidden file on the secrets volume, never fatal', () => {
    expect(handoverLocation(base)).toEqual({ file: FILE, exitOnError: false, shared: true, identity });
  });

  test('agent-cache-enable: the persistent cache volume, with its exit-on-err', () => {
    const cached = {
      ...base,
      cache: {
        listenerAddress: '127.0.0.1:8200',
        useAutoAuthToken: 'true',
        persist: { path: '/vault/agent-cache', exitOnError: true },
      },
    } as AgentConfig;
    expect(handoverLocation(cached)).toEqual({
      file: '/vault/agent-cache/vaultbridge-agent-cache.json',
      exitOnError: true,
      shared: false,
      identity,
    });
  });

  test('handover: false (agent-handover "false", pre-populate-only init): none', () => {
    expect(handoverLocation({ ...base, handover: false })).toBeUndefined();
  });
});
