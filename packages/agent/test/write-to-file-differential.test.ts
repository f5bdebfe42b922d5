// writeToFile through the agent (its renderer and its confined writer) against the real consul-template
// v0.41.1 (tools/consul-template): the same template writes the same bytes with the same modes —
// flags "newline" and "append", several writes to one file, a new sub-directory, content piped in.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath } from '@vaultbridge/testenv';
import { compileSecretRenderer } from '../src/contract/index.ts';
import { agentPaths } from '../src/paths.ts';
import { templateFileWriter } from '../src/template-files.ts';

const template = (dir: string): string =>
  [
    `{{ "first" | writeToFile "${dir}/log.txt" "" "" "0640" "append,newline" }}`,
    `{{ "second" | writeToFile "${dir}/log.txt" "" "" "0640" "append,newline" }}`,
    `{{ "no newline" | writeToFile "${dir}/plain.txt" "" "" "0600" }}`,
    `{{ "replaced" | writeToFile "${dir}/replaced.txt" "" "" "0644" "newline" }}`,
    `{{ "  spaced\\nlines " | writeToFile "${dir}/replaced.txt" "" "" "0604" "newline" }}`,
    `{{ writeToFile "${dir}/sub/dir/deep.txt" "" "" "0644" "unknown-flag" "déjà vu 🐢" }}`,
    'done\n',
  ].join('');

function runConsulTemplate(dir: string): Promise<string> {
  fs.writeFileSync(path.join(dir, 'in.tpl'), template(dir));
  return new Promise((resolve, reject) => {
    execFile(
      binaryPath('consul-template'),
      ['-once', '-log-level=err', '-template', `${dir}/in.tpl:${dir}/out.txt`],
      { timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir } },
      (error, _stdout, stderr) =>
        error
          ? reject(new Error(`consul-template failed: ${error.message}\n${stderr}`))
          : resolve(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')),
    );
  });
}

async function runOurs(dir: string): Promise<string> {
  const render = compileSecretRenderer(
    {
      name: 'out.txt',
      template: template(dir),
      defaultTemplate: 'map',
      destination: `${dir}/out.txt`,
      leftDelimiter: '{{',
      rightDelimiter: '}}',
      errorOnMissingKey: false,
      templateEngine: 'go',
    },
    template(dir),
    { writeFile: templateFileWriter(agentPaths(undefined), [dir]) },
  );
  return render(undefined, async () => {
    throw new Error('this template reads nothing from Vault');
  });
}

/** Every file under `dir` (but the template and its output) with its bytes and mode. */
function snapshot(dir: string): Record<string, { text: string; mode: string }> {
  const out: Record<string, { text: string; mode: string }> = {};
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (!['in.tpl', 'out.txt'].includes(rel))
        out[rel] = {
          text: fs.readFileSync(path.join(dir, rel), 'utf8'),
          mode: (fs.statSync(path.join(dir, rel)).mode & 0o777).toString(8),
        };
    }
  };
  walk('');
  return out;
}

test('writeToFile writes what consul-template writes, byte for byte and mode for mode', async () => {
  // The same absolute directory for both (the paths are in the template), one after the other.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtf-diff-'));
  try {
    expect(await runConsulTemplate(dir)).toBe('done\n');
    const theirs = snapshot(dir);
    for (const entry of fs.readdirSync(dir)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    expect(await runOurs(dir)).toBe('done\n');
    const ours = snapshot(dir);
    expect(ours).toEqual(theirs);
    expect(ours['log.txt']).toEqual({ text: 'first\nsecond\n', mode: '640' });
    expect(ours['sub/dir/deep.txt']?.text).toBe('déjà vu 🐢');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
