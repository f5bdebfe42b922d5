// consul-template's writeToFile and file in the agent: only inside the pod's secrets volumes (and the
// ConfigMap for reads), never through a symlink, atomic, appending and owning as asked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agentPaths } from './paths.ts';
import { lookupId, templateFileReader, templateFileWriter } from './template-files.ts';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-tplfiles-'));
  for (const dir of ['vault/secrets', 'vault/configs', 'home/vault', 'elsewhere'])
    fs.mkdirSync(path.join(root, dir), { recursive: true });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const at = (...parts: string[]) => path.join(root, ...parts);
const write = (
  p: string,
  content: string,
  extra: Partial<{ append: boolean; mode: number; user: string; group: string }> = {},
) =>
  templateFileWriter(agentPaths(root), ['/vault/secrets'])({
    path: p,
    user: '',
    group: '',
    mode: 0o644,
    append: false,
    content,
    ...extra,
  });

test('writes atomically with the mode, creating sub-directories; append adds to what is there', async () => {
  await write('/vault/secrets/sub/a.txt', 'one\n', { mode: 0o600 });
  expect(fs.readFileSync(at('vault/secrets/sub/a.txt'), 'utf8')).toBe('one\n');
  expect(fs.statSync(at('vault/secrets/sub/a.txt')).mode & 0o777).toBe(0o600);
  await write('/vault/secrets/sub/a.txt', 'two\n', { mode: 0o600, append: true });
  await write('/vault/secrets/sub/a.txt', 'three\n', { mode: 0o600, append: true });
  expect(fs.readFileSync(at('vault/secrets/sub/a.txt'), 'utf8')).toBe('one\ntwo\nthree\n');
  await write('/vault/secrets/new.txt', 'first\n', { append: true });
  expect(fs.readFileSync(at('vault/secrets/new.txt'), 'utf8')).toBe('first\n');
  expect(fs.readdirSync(at('vault/secrets/sub'))).toEqual(['a.txt']);
});

test('refuses paths outside the secrets volumes, relative ones and symlinks at any level', async () => {
  await expect(write('/home/vault/.vault-token', 'x')).rejects.toThrow(
    /outside the volumes the agent writes to \(\/vault\/secrets\)/,
  );
  await expect(write('/etc/passwd', 'x')).rejects.toThrow(/outside the volumes/);
  await expect(write('vault/secrets/a', 'x')).rejects.toThrow(/clean absolute path/);
  await expect(write('/vault/secrets/../../etc/x', 'x')).rejects.toThrow(/clean absolute path/);
  fs.symlinkSync(at('elsewhere'), at('vault/secrets/link'));
  await expect(write('/vault/secrets/link/a', 'x')).rejects.toThrow(/symbolic link/);
  fs.symlinkSync(at('elsewhere/target'), at('vault/secrets/file-link'));
  await expect(write('/vault/secrets/file-link', 'x', { append: true })).rejects.toThrow(/symbolic link/);
  expect(fs.readdirSync(at('elsewhere'))).toEqual([]);
});

test('owners: names from /etc/passwd and /etc/group, numbers as they are, unknown names refused as Go does', async () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nstaff:x:50:\n';
  const read = (file: string) => (file === '/etc/passwd' ? passwd : group);
  expect(lookupId('app', 'user', read)).toBe(1234);
  expect(lookupId('1000', 'user', read)).toBe(1000);
  expect(lookupId('staff', 'group', read)).toBe(50);
  expect(() => lookupId('nobody-here', 'user', read)).toThrow('user: unknown user nobody-here');
  expect(() => lookupId('nogroup-here', 'group', read)).toThrow('group: unknown group nogroup-here');
  // Giving a file its current owner works without privileges; the test runs as whoever it is.
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  await write('/vault/secrets/owned', 'x', { user: String(uid), group: String(gid) });
  expect(fs.statSync(at('vault/secrets/owned')).uid).toBe(uid);
});

test('file reads the secrets volumes and the ConfigMap, nothing else, never through a link', () => {
  const read = templateFileReader(agentPaths(root), ['/vault/secrets', '/vault/configs']);
  fs.writeFileSync(at('vault/configs/extra.txt'), 'from the configmap');
  fs.writeFileSync(at('elsewhere/secret'), 'outside');
  fs.symlinkSync(at('elsewhere/secret'), at('vault/secrets/link'));
  expect(read('/vault/configs/extra.txt')).toBe('from the configmap');
  expect(() => read('/vault/secrets/link')).toThrow(/outside the readable volumes/);
  expect(() => read('/home/vault/.vault-token')).toThrow(/outside the readable volumes/);
  expect(() => read('/vault/configs/../../etc/passwd')).toThrow(/clean absolute path/);
});
