// Sprig and VSO-allowlist cases of the conformance corpus (see generate-corpus.ts).
import type { CorpusCase } from './reference.ts';

export function SPRIG_CASES(data: string): CorpusCase[] {
  void data;
  return [];
}
