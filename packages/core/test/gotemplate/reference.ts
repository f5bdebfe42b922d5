// Runs cases through the Go reference renderer (tools/gotemplate-ref: Go's text/template + sprig
// v3.3.0, built by tools/install.sh) and through our engine, in the same shape, so tests compare them.
import { spawnSync } from 'node:child_process';
import { binaryPath } from '@vaultbridge/testenv';
import { GoTemplate, GoTemplateError, type FuncMap } from '../../src/gotemplate/index.ts';
import { fromJson } from '../../src/gotemplate/values.ts';

export interface CorpusCase {
  name: string;
  template: string;
  /** JSON text of the data ('' for nil data). */
  data: string;
  funcs?: 'none' | 'sprig' | 'vso';
  missingkey?: 'default' | 'zero' | 'error';
  delims?: [string, string];
  numbers?: 'float64' | 'json.Number';
  templates?: { name: string; text: string }[];
}

export interface Rendered {
  output?: string;
  error?: string;
  phase?: string;
}

/** Renders every case with the Go engine in one process (one JSON line per case each way). */
export function renderWithGo(cases: readonly CorpusCase[]): Rendered[] {
  const input = cases.map((c) => JSON.stringify(c)).join('\n') + '\n';
  const run = spawnSync(binaryPath('gotemplate-ref'), [], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`gotemplate-ref failed (status ${run.status}): ${run.stderr}`);
  const lines = run.stdout.split('\n').filter((l) => l.length > 0);
  if (lines.length !== cases.length)
    throw new Error(`gotemplate-ref answered ${lines.length} of ${cases.length} cases`);
  return lines.map((l) => JSON.parse(l) as Rendered);
}

/** Renders one case with our engine, in the reference renderer's result shape. */
export function renderWithUs(c: CorpusCase, funcSets: Readonly<Record<string, FuncMap | undefined>>): Rendered {
  let data;
  try {
    data = c.data === '' ? undefined : fromJson(c.data, c.numbers ?? 'float64');
  } catch (error) {
    return { error: String(error), phase: 'data' };
  }
  try {
    const template = GoTemplate.parse(
      c.name || 't',
      c.template,
      {
        ...(funcSets[c.funcs ?? 'none'] === undefined ? {} : { funcs: funcSets[c.funcs ?? 'none'] as FuncMap }),
        ...(c.delims === undefined ? {} : { delims: c.delims }),
        ...(c.missingkey === undefined ? {} : { missingKey: c.missingkey }),
      },
      c.templates ?? [],
    );
    return { output: template.executeValue(data) };
  } catch (error) {
    if (error instanceof GoTemplateError) return { error: error.message, phase: error.phase };
    return { error: `crash: ${error instanceof Error ? error.stack : String(error)}`, phase: 'crash' };
  }
}

/** The line an error names: "template: NAME:LINE:…". */
export function errorLine(message: string | undefined): number | undefined {
  const m = /^template: [^:]*:(\d+):/.exec(message ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Why two results differ, or undefined when they agree (same bytes, or same error phase and line). */
export function difference(ours: Rendered, go: Rendered): string | undefined {
  if (go.output !== undefined) {
    if (ours.output === go.output) return undefined;
    return ours.output === undefined
      ? `we failed (${ours.error}) where Go printed ${JSON.stringify(go.output)}`
      : `output ${JSON.stringify(ours.output)} != Go's ${JSON.stringify(go.output)}`;
  }
  if (ours.output !== undefined) return `we printed ${JSON.stringify(ours.output)} where Go failed: ${go.error}`;
  const ourPhase = ours.phase === 'limit' ? 'exec' : ours.phase;
  if (ourPhase !== go.phase) return `error phase ${ours.phase} (${ours.error}) != Go's ${go.phase} (${go.error})`;
  if (errorLine(ours.error) !== errorLine(go.error)) return `error line: ours "${ours.error}" vs Go's "${go.error}"`;
  return undefined;
}
