import type { CliIo } from '@vaultbridge/core';

/** All of `io.stdin` as text (UTF-8). */
export async function readStdin(io: CliIo): Promise<string> {
  if (io.stdin === undefined) throw new Error('no standard input to read');
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of io.stdin)
    chunks.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  return chunks.join('') + decoder.decode();
}
