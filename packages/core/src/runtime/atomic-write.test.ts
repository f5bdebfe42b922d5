import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AtomicWriteError, writeFileAtomic } from './atomic-write.ts';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'vaultbridge-atomic-'));
});

afterEach(() => rm(directory, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  test('writes the content with the default mode 0644', async () => {
    const file = path.join(directory, 'db.txt');
    await writeFileAtomic(file, 'username: app\n');
    expect(await readFile(file, 'utf8')).toBe('username: app\n');
    expect((await stat(file)).mode & 0o7777).toBe(0o644);
  });

  test.each([0o400, 0o600, 0o640, 0o666])('honours mode %o regardless of the umask', async (mode) => {
    const file = path.join(directory, 'secret');
    const previous = process.umask(0o077);
    try {
      await writeFileAtomic(file, Buffer.from([1, 2, 3]), { mode });
    } finally {
      process.umask(previous);
    }
    expect((await stat(file)).mode & 0o7777).toBe(mode);
    expect([...(await readFile(file))]).toEqual([1, 2, 3]);
  });

  test('replaces an existing file and its mode, leaving no temporary file', async () => {
    const file = path.join(directory, 'creds');
    await writeFile(file, 'old', { mode: 0o644 });
    await writeFileAtomic(file, 'new', { mode: 0o600 });
    expect(await readFile(file, 'utf8')).toBe('new');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(directory)).toEqual(['creds']);
  });

  test('sets the owner (to our own ids, which needs no privilege)', async () => {
    const file = path.join(directory, 'owned');
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    await writeFileAtomic(file, 'x', { uid, gid });
    const stats = await stat(file);
    expect([stats.uid, stats.gid]).toEqual([uid, gid]);
  });

  test('fails with a typed error naming the path and step, and removes the temporary file', async () => {
    const target = path.join(directory, 'is-a-directory');
    await mkdir(path.join(target, 'child'), { recursive: true });
    const error = await writeFileAtomic(target, 'x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AtomicWriteError);
    expect(error).toMatchObject({ code: 'ATOMIC_WRITE_FAILED', path: target, step: 'rename' });
    expect((error as Error).message).toContain(target);
    expect(await readdir(directory)).toEqual(['is-a-directory']);
  });

  test('fails with ENOENT and a hint when the directory does not exist', async () => {
    const file = path.join(directory, 'missing', 'file');
    await expect(writeFileAtomic(file, 'x')).rejects.toMatchObject({
      step: 'open',
      systemCode: 'ENOENT',
      message: expect.stringContaining('the directory does not exist'),
    });
  });

  test('creates missing parent directories when asked', async () => {
    const file = path.join(directory, 'a', 'b', 'c.txt');
    await writeFileAtomic(file, 'x', { createParents: true, directoryMode: 0o750 });
    expect(await readFile(file, 'utf8')).toBe('x');
    expect((await stat(path.join(directory, 'a', 'b'))).isDirectory()).toBe(true);
  });

  test('a concurrent reader only ever sees a complete old or new file', async () => {
    const file = path.join(directory, 'large');
    const size = 4 * 1024 * 1024;
    const contents = ['a', 'b'].map((letter) => Buffer.alloc(size, letter));
    await writeFileAtomic(file, contents[0] ?? '');
    // A separate process reads in a tight loop while this one rewrites; each read must be one whole
    // version: the full size, a single repeated letter.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `
        const fs = require('node:fs');
        const [file, size] = [process.argv[1], Number(process.argv[2])];
        let reads = 0, torn = 0;
        const stop = Date.now() + 1500;
        while (Date.now() < stop) {
          let data;
          try { data = fs.readFileSync(file); } catch { torn++; continue; }
          reads++;
          if (data.length !== size || data.indexOf(data[0] === 97 ? 98 : 97) !== -1) torn++;
        }
        process.stdout.write(JSON.stringify({ reads, torn }));
        `,
        file,
        String(size),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    reader.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => reader.once('exit', resolve));
    let writes = 0;
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      await writeFileAtomic(file, contents[writes % 2] ?? '');
      writes++;
    }
    expect(await exited).toBe(0);
    const { reads, torn } = JSON.parse(output) as { reads: number; torn: number };
    expect(writes).toBeGreaterThan(5);
    expect(reads).toBeGreaterThan(5);
    expect(torn).toBe(0);
  });
});
