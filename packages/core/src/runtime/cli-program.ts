// Command-line plumbing every Vaultbridge binary shares: output goes to the given streams and commander
// never calls process.exit, so every command is a plain async function in tests. commander is an
// optional peer dependency: only the services (which depend on it) load this module.

import { Command, CommanderError } from 'commander';

export interface TextSink {
  write(text: string): unknown;
}

/** What a CLI run may touch; tests pass buffers. */
export interface CliIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** read when a file argument is `-` */
  readonly stdin?: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** All of `io.stdin` as UTF-8 text (a file argument `-`, or a command that takes its input there). */
export async function readStdin(io: Pick<CliIo, 'stdin'>): Promise<string> {
  if (io.stdin === undefined) throw new Error('no standard input to read');
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of io.stdin)
    chunks.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  return chunks.join('') + decoder.decode();
}

/** A commander program that writes to `io` and throws a CommanderError where commander would exit. */
export function createProgram(name: string, description: string, io: Pick<CliIo, 'stdout' | 'stderr'>): Command {
  return new Command(name)
    .description(description)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
}

export interface RunProgramOptions {
  /**
   * The exit code for an error that is not commander's (an action threw); rethrow to let it escape.
   * Without it such errors escape.
   */
  readonly onError?: (error: unknown) => number;
}

/** Parse `argv` (arguments after the program name) and resolve to the exit code the action set. */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  exitCode: () => number,
  options: RunProgramOptions = {},
): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    // Help and version end with a CommanderError too; usage errors get 2, keeping 1 for denials.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (options.onError) return options.onError(error);
    throw error;
  }
  return exitCode();
}
