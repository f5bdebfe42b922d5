import { createHash } from 'node:crypto';
import { TemplateError } from '@vaultbridge/core';
import { compileSecretRenderer } from '@vaultbridge/agent/contract';
import { LRUCache } from 'lru-cache';

/** What makes two inline templates compile the same: the agent's compile reads exactly these. */
export interface InlineTemplate {
  readonly name: string;
  readonly text: string;
  readonly leftDelimiter: string;
  readonly rightDelimiter: string;
  readonly errorOnMissingKey: boolean;
  readonly templateEngine?: 'go' | 'handlebars';
}

/** Why an inline template does not compile, where the agent's compile says. */
export interface TemplateProblem {
  readonly line?: number;
  readonly column?: number;
  readonly reason: string;
}

type Compile = typeof compileSecretRenderer;

/**
 * Checks an inline template with the agent's own compile, remembering the verdict. The compile no
 * longer builds consul-template's function map (core shares one table per process), but parsing still
 * allocates in proportion to its tokens: ~7 KiB for a one-line template, ~170 KiB and ~120 µs for a
 * 2.4 KiB one, against ~5 µs and under 3 KiB to hash it and find the verdict (README, "Checking inline
 * templates"). At 1,000 reviews/s that allocation is what drives the scavenges and the heap growth after
 * load. The pods of one Deployment, Job or StatefulSet carry the same annotations, so a burst of reviews
 * is mostly the same few templates. Keys are SHA-256 digests of what the compile reads, so the cache
 * holds no template text (annotations may be up to 256 KiB) and stays a few hundred KiB at most.
 */
export function createTemplateChecker(
  compile: Compile = compileSecretRenderer,
  maxEntries = 1_000,
): (template: InlineTemplate) => TemplateProblem | undefined {
  const verdicts = new LRUCache<string, { problem?: TemplateProblem }>({ max: maxEntries });
  return (template) => {
    const key = createHash('sha256')
      .update(
        JSON.stringify([
          template.name,
          template.text,
          template.leftDelimiter,
          template.rightDelimiter,
          template.errorOnMissingKey,
          template.templateEngine ?? null,
        ]),
      )
      .digest('base64');
    const known = verdicts.get(key);
    if (known !== undefined) return known.problem;
    const verdict = compileVerdict(compile, template);
    verdicts.set(key, verdict);
    return verdict.problem;
  };
}

function compileVerdict(compile: Compile, template: InlineTemplate): { problem?: TemplateProblem } {
  try {
    compile(
      {
        name: template.name,
        defaultTemplate: 'map',
        destination: '/',
        leftDelimiter: template.leftDelimiter,
        rightDelimiter: template.rightDelimiter,
        errorOnMissingKey: template.errorOnMissingKey,
        ...(template.templateEngine === undefined ? {} : { templateEngine: template.templateEngine }),
      },
      template.text,
    );
    return {};
  } catch (error) {
    // Anything but a template error is a bug, not a verdict on the template: never remembered.
    if (!(error instanceof TemplateError)) throw error;
    return {
      problem: {
        ...(error.line === undefined ? {} : { line: error.line }),
        ...(error.column === undefined ? {} : { column: error.column }),
        reason: error.reason,
      },
    };
  }
}
