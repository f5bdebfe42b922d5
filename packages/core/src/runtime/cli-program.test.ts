import { createProgram, runProgram, type CliIo } from './cli-program.ts';

function buffers(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (text: string) => (out += text) }, stderr: { write: (text: string) => (err += text) } },
    out: () => out,
    err: () => err,
  };
}

/** A program with one command whose action sets the exit code it is given, or throws. */
function sample(io: CliIo, action: (code: number) => void) {
  const program = createProgram('sample', 'a sample program', io);
  program
    .command('run')
    .requiredOption('--code <n>', 'exit code to set')
    .action((options: { code: string }) => action(Number(options.code)));
  return program;
}

test('resolves to the exit code the action set', async () => {
  const { io } = buffers();
  let code = 0;
  expect(
    await runProgram(
      sample(io, (value) => (code = value)),
      ['run', '--code', '7'],
      () => code,
    ),
  ).toBe(7);
});

test('help goes to the given stdout and ends in 0, without exiting the process', async () => {
  const { io, out } = buffers();
  expect(
    await runProgram(
      sample(io, () => undefined),
      ['--help'],
      () => 1,
    ),
  ).toBe(0);
  expect(out()).toContain('a sample program');
});

test('a usage error is written to the given stderr and ends in 2', async () => {
  const { io, err } = buffers();
  expect(
    await runProgram(
      sample(io, () => undefined),
      ['run'],
      () => 0,
    ),
  ).toBe(2);
  expect(err()).toContain("required option '--code <n>' not specified");
});

test("an action's own error escapes unless onError gives it an exit code", async () => {
  const { io } = buffers();
  const failing = () =>
    sample(io, () => {
      throw new Error('vault unreachable');
    });
  await expect(runProgram(failing(), ['run', '--code', '0'], () => 0)).rejects.toThrow('vault unreachable');
  const seen: unknown[] = [];
  const code = await runProgram(failing(), ['run', '--code', '0'], () => 0, {
    onError: (error) => {
      seen.push(error);
      return 1;
    },
  });
  expect(code).toBe(1);
  expect(seen).toEqual([new Error('vault unreachable')]);
});
