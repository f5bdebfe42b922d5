// `vaultbridge-operator convert [FILE...]`: VSO manifests (secrets.hashicorp.com/v1beta1) rewritten into
// ours (secrets.vaultbridge.dev/v1beta1) on stdout, what does not carry over on stderr. Exit 0 when
// nothing needs a person, 3 when something does, 2 on unreadable input. Other documents pass through.
// (vaultbridge-migrate runs the same converter as its first stage and adds the other methods.)
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { readStdin } from '@vaultbridge/core';
// A default import only: the service bundles then evaluate yaml on first use (tools/bundle-plugins.js,
// lazyDefaultImports), and the operator calls it only here, in `convert` (~0.8 MiB RSS at import).
import YAML from 'yaml';
import type { ConversionFinding } from './report.ts';
import { isRecord, type Manifest } from './report.ts';
import { convertVsoManifests } from './vso.ts';

export interface ConvertIo {
  readonly stdin?: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export const EXIT_NEEDS_REVIEW = 3;

class InputError extends Error {}

async function readText(file: string, io: ConvertIo): Promise<string> {
  if (file !== '-') return readFile(file, 'utf8');
  if (io.stdin === undefined) throw new InputError('no stdin to read from');
  return readStdin({ stdin: io.stdin });
}

function documents(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  for (const [index, document] of YAML.parseAllDocuments(text).entries()) {
    if (document.errors.length > 0)
      throw new InputError(
        `${source}: document ${index + 1} is not valid YAML: ${(document.errors[0]?.message ?? '').split('\n')[0]}`,
      );
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      throw new InputError(`${source}: document ${index + 1} cannot be read: ${(error as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    if (!isRecord(value)) throw new InputError(`${source}: document ${index + 1} is not an object`);
    if (value.kind === 'List' && Array.isArray(value.items)) out.push(...value.items.filter(isRecord));
    else out.push(value);
  }
  return out;
}

function formatFinding(finding: ConversionFinding): string {
  const { kind, namespace, name } = finding.source;
  return `${kind} ${namespace ? `${namespace}/` : ''}${name}: ${finding.severity} ${finding.field}: ${finding.reason}\n`;
}

export function addConvertCommand(program: Command, io: ConvertIo, setExitCode: (code: number) => void): void {
  program
    .command('convert')
    .description(
      'Rewrite VSO manifests (secrets.hashicorp.com/v1beta1) into secrets.vaultbridge.dev/v1beta1; report what does not carry over on stderr',
    )
    .argument('[files...]', 'manifest files (multi-document YAML or JSON); none or "-" reads stdin')
    .action(async (files: string[]) => {
      const findings: ConversionFinding[] = [];
      let input: Manifest[] = [];
      try {
        for (const file of files.length === 0 ? ['-'] : files)
          input = input.concat(documents(await readText(file, io), file === '-' ? 'stdin' : file));
      } catch (error) {
        if (!(error instanceof InputError) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        io.stderr.write(`vaultbridge-operator convert: ${(error as Error).message}\n`);
        setExitCode(2);
        return;
      }
      const output = convertVsoManifests(input, {
        add: (severity, source, field, reason) => void findings.push({ severity, source, field, reason }),
      });
      io.stdout.write(output.map((manifest) => YAML.stringify(manifest, { lineWidth: 0 })).join('---\n'));
      for (const finding of findings) io.stderr.write(formatFinding(finding));
      setExitCode(findings.some((finding) => finding.severity === 'error') ? EXIT_NEEDS_REVIEW : 0);
    });
}
