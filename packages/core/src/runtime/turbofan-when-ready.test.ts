import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { TURBOFAN_WHEN_READY_ENV, turnOnTurbofanWhenReady } from './turbofan-when-ready.ts';

function recorder() {
  const flags: string[] = [];
  const warnings: string[] = [];
  const logger = { debug: () => undefined, warn: (message: string) => void warnings.push(message) };
  return { flags, warnings, logger, setFlags: (value: string) => void flags.push(value) };
}

describe('turnOnTurbofanWhenReady', () => {
  test.each([undefined, '', 'off'])('leaves the flags alone when the setting is %p', (setting) => {
    const r = recorder();
    const env = setting === undefined ? {} : { [TURBOFAN_WHEN_READY_ENV]: setting };
    expect(turnOnTurbofanWhenReady({ logger: r.logger, env, setFlags: r.setFlags })).toBe(false);
    expect(r.flags).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  test('on sets --turbofan', () => {
    const r = recorder();
    expect(
      turnOnTurbofanWhenReady({ logger: r.logger, env: { [TURBOFAN_WHEN_READY_ENV]: 'on' }, setFlags: r.setFlags }),
    ).toBe(true);
    expect(r.flags).toEqual(['--turbofan']);
    expect(r.warnings).toEqual([]);
  });

  test('a misspelt setting is named in a warning and TurboFan is turned on', () => {
    const r = recorder();
    expect(
      turnOnTurbofanWhenReady({ logger: r.logger, env: { [TURBOFAN_WHEN_READY_ENV]: 'yes' }, setFlags: r.setFlags }),
    ).toBe(true);
    expect(r.flags).toEqual(['--turbofan']);
    expect(r.warnings).toEqual([`${TURBOFAN_WHEN_READY_ENV}="yes" is neither "on" nor "off": --turbofan is turned on`]);
  });

  test('compilers names the flags set instead of --turbofan', () => {
    const r = recorder();
    const env = { [TURBOFAN_WHEN_READY_ENV]: 'on' };
    expect(turnOnTurbofanWhenReady({ logger: r.logger, env, setFlags: r.setFlags, compilers: ['--maglev'] })).toBe(
      true,
    );
    expect(r.flags).toEqual(['--maglev']);
  });

  // The real V8 of a `node --no-turbofan` process, read from its --trace-opt output: a function hot before
  // the call is never optimised by TurboFan, one hot after it is. Started without --no-turbofan, the same
  // script's first function is optimised: the workload is hot enough to show it.
  test('in node --no-turbofan, nothing is optimised before the call and hot code is after it', () => {
    const moduleUrl = pathToFileURL(path.join(import.meta.dirname, 'turbofan-when-ready.ts')).href;
    const script = `
      const { turnOnTurbofanWhenReady } = await import(${JSON.stringify(moduleUrl)});
      const spin = (name) => new Function('n', 'let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; /* ' + name + ' */');
      const before = spin('before');
      let total = 0;
      for (let i = 0; i < 20000; i++) total += before(500);
      console.log('--- ready');
      turnOnTurbofanWhenReady({ logger: { debug() {}, warn() {} }, env: { VAULTBRIDGE_TURBOFAN_WHEN_READY: 'on' } });
      const after = spin('after');
      for (let i = 0; i < 20000; i++) total += after(500);
      console.log(total > 0 ? '--- done true' : '--- done false');
    `;
    const run = (...flags: string[]) =>
      execFileSync(process.execPath, [...flags, '--trace-opt', '--input-type=module', '--eval', script], {
        encoding: 'utf8',
        timeout: 60_000,
      }).split('--- ready');
    const [beforeReady, afterReady] = run('--no-maglev', '--no-turbofan');
    expect(afterReady).toContain('--- done true');
    expect(beforeReady).not.toMatch(/target TURBOFAN/);
    expect(afterReady).toMatch(/completed optimizing .*target TURBOFAN/);
    const [withTurbofanFromStart] = run('--no-maglev');
    expect(withTurbofanFromStart).toMatch(/completed optimizing .*target TURBOFAN/);
  });
});

// The operator's use: started without Maglev and TurboFan, it turns on Maglev alone. Read from the real
// V8's --trace-opt as above: nothing optimised before the call, Maglev code after it and no TurboFan code.
test('in node --no-maglev --no-turbofan, compilers [--maglev] turns on Maglev alone', () => {
  const moduleUrl = pathToFileURL(path.join(import.meta.dirname, 'turbofan-when-ready.ts')).href;
  const script = `
    const { turnOnTurbofanWhenReady } = await import(${JSON.stringify(moduleUrl)});
    const spin = (name) => new Function('n', 'let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; /* ' + name + ' */');
    const before = spin('before');
    let total = 0;
    for (let i = 0; i < 20000; i++) total += before(500);
    console.log('--- ready');
    turnOnTurbofanWhenReady({ logger: { debug() {}, warn() {} }, env: { VAULTBRIDGE_TURBOFAN_WHEN_READY: 'on' }, compilers: ['--maglev'] });
    const after = spin('after');
    for (let i = 0; i < 20000; i++) total += after(500);
    console.log(total > 0 ? '--- done true' : '--- done false');
  `;
  const [beforeReady, afterReady] = execFileSync(
    process.execPath,
    ['--no-maglev', '--no-turbofan', '--trace-opt', '--input-type=module', '--eval', script],
    { encoding: 'utf8', timeout: 60_000 },
  ).split('--- ready');
  expect(afterReady).toContain('--- done true');
  expect(beforeReady).not.toMatch(/target (MAGLEV|TURBOFAN)/);
  expect(afterReady).toMatch(/completed compiling .*target MAGLEV/);
  expect(afterReady).not.toMatch(/target TURBOFAN/);
});
