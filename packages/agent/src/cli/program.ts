// Shared command-line plumbing: output goes to the given streams and commander never calls
// process.exit, so every command is a plain async function in tests.

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

export function createProgram(name: string, description: string, io: CliIo): Command {
  return new Command(name)
    .description(description)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
}

/** Parse `argv` (arguments after the program name) and resolve to the exit code the action set. */
export async function runProgram(program: Command, argv: readonly string[], exitCode: () => number): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    // Help and version end with a CommanderError too; usage errors get 2, keeping 1 for denials.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  return exitCode();
}
