// scratch and writeToFile over consul-template's render loop: what one execution keeps, and when the
// recorded writes happen (byte-for-byte behaviour is in test/consul-template-differential.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GoTemplate } from '../template.ts';
import { consulTemplateFuncs, DependencyBrain, renderWithDependencies, type DependencyResolver } from './consul.ts';
import { confinedFileReader, type TemplateFileWrite } from './consul-state.ts';
import { fromJs, type GoValue } from '../values.ts';

const kv = (data: Record<string, unknown>): GoValue => fromJs({ Data: { data } }, 'json.Number');

function setup(text: string, resolve: DependencyResolver) {
  const writes: TemplateFileWrite[] = [];
  const brain = new DependencyBrain({ writeFile: async (w) => void writes.push(w) });
  const template = GoTemplate.parse('t', text, { funcs: consulTemplateFuncs({ brain }) });
  return { writes, render: () => renderWithDependencies(template, brain, resolve) };
}

test('scratch starts empty on every execution, so a render pass never sees the last one', async () => {
  let reads = 0;
  const { render } = setup(
    '{{ with secret "s/a" }}{{ scratch.SetX "first" .Data.data.v }}{{ else }}{{ scratch.SetX "first" "none" }}{{ end }}{{ scratch.Get "first" }}',
    async () => kv({ v: `v${++reads}` }),
  );
  // Pass 1 had no secret yet and set "first" to "none"; pass 2 starts from an empty scratch again.
  expect(await render()).toBe('v1');
  expect(await render()).toBe('v1');
});

test('writeToFile writes once, after the last pass, with the value that pass rendered', async () => {
  const { writes, render } = setup(
    '{{ with secret "s/a" }}{{ .Data.data.v | writeToFile "/vault/secrets/v.txt" "" "100" "0640" "append,newline" }}{{ end }}{{ "x" | writeToFile "/vault/secrets/x" "app" "" "4755" }}done',
    async () => kv({ v: 'secret-value' }),
  );
  expect(await render()).toBe('done');
  expect(writes).toEqual([
    { path: '/vault/secrets/v.txt', user: '', group: '100', mode: 0o640, append: true, content: 'secret-value\n' },
    { path: '/vault/secrets/x', user: 'app', group: '', mode: 0o755, append: false, content: 'x' },
  ]);
});

test('a failing render writes nothing', async () => {
  const { writes, render } = setup(
    '{{ "x" | writeToFile "/vault/secrets/a" "" "" "0644" }}{{ with secret "s/a" }}{{ .Data.data.v | mustEnv }}{{ end }}',
    async () => kv({ v: 'NOT_SET_ANYWHERE' }),
  );
  await expect(render()).rejects.toThrow(/required environment variable NOT_SET_ANYWHERE is empty/);
  expect(writes).toEqual([]);
});

test('writeToFile without a writer fails naming the path; bad permissions fail as strconv does', async () => {
  const brain = new DependencyBrain();
  const template = GoTemplate.parse('t', '{{ "x" | writeToFile "/etc/passwd" "" "" "0644" }}', {
    funcs: consulTemplateFuncs({ brain }),
  });
  await expect(renderWithDependencies(template, brain, async () => null)).rejects.toThrow(
    'writeToFile "/etc/passwd": this renderer writes no files',
  );
  const bad = GoTemplate.parse('t', '{{ "x" | writeToFile "/a" "" "" "rw" }}', {
    funcs: consulTemplateFuncs({ brain }),
  });
  expect(() => bad.execute({})).toThrow('error calling writeToFile: strconv.ParseUint: parsing "rw": invalid syntax');
});

test('file reads only inside its roots, never through a symlink out of them', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ctfile-'));
  try {
    fs.writeFileSync(path.join(root, 'in.txt'), 'inside');
    fs.symlinkSync('/etc/hostname', path.join(root, 'link'));
    const read = confinedFileReader([root]);
    const render = (text: string) =>
      GoTemplate.parse('t', text, {
        funcs: consulTemplateFuncs({ brain: new DependencyBrain(), readFile: read }),
      }).execute({});
    expect(render(`{{ file "${root}/in.txt" }}`)).toBe('inside');
    expect(() => render(`{{ file "${root}/link" }}`)).toThrow(/outside the readable volumes/);
    expect(() => render('{{ file "/etc/hostname" }}')).toThrow(/outside the readable volumes/);
    expect(() => render('{{ file "relative.txt" }}')).toThrow(/must be absolute/);
    expect(() =>
      GoTemplate.parse('t', '{{ file "/x" }}', {
        funcs: consulTemplateFuncs({ brain: new DependencyBrain() }),
      }).execute({}),
    ).toThrow(/reads no files/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('plugin, sockaddr and spew_* are refused with the reason', () => {
  const render = (text: string) =>
    GoTemplate.parse('t', text, { funcs: consulTemplateFuncs({ brain: new DependencyBrain() }) }).execute({});
  expect(() => render('{{ plugin "/bin/sh" "-c" "id" }}')).toThrow(
    /error calling plugin: plugin runs a program inside the agent container/,
  );
  expect(() => render('{{ sockaddr "GetPrivateIP" }}')).toThrow(/downward API/);
  expect(() => render('{{ spew_sdump . }}')).toThrow(/toJSONPretty/);
});
