/**
 * Reads a service's Dockerfile into what the local image builder does with it. The Dockerfiles
 * stay the source of truth for real registries; the builder follows them instead of a copy of their
 * steps, so the two cannot drift. Only the instructions our Dockerfiles use are understood; any
 * other is refused by name, so a Dockerfile change the builder cannot follow fails loudly.
 */
export type BuildStep = { kind: 'copy'; sources: string[]; destination: string } | { kind: 'run'; script: string };

export interface ImageRecipe {
  /** The base image the Dockerfile names (the builder provides `node:24-*` from the npm `node` package). */
  from: string;
  workdir: string;
  steps: BuildStep[];
  user?: string;
  env: Record<string, string>;
  exposedPorts: string[];
  entrypoint?: string[];
  cmd?: string[];
}

export class DockerfileError extends Error {
  readonly code = 'DOCKERFILE_UNSUPPORTED';
}

/** Joins continuation lines and drops comments and blank lines; returns [instruction, arguments]. */
function instructions(text: string): Array<[string, string, number]> {
  const result: Array<[string, string, number]> = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      // As Docker does: the backslash and the line break are removed, the lines joined.
      pending += line.slice(0, -1);
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s+([\s\S]*)$/.exec(full);
    if (!match?.[1] || match[2] === undefined)
      throw new DockerfileError(`line ${startLine}: cannot read instruction '${full}'`);
    result.push([match[1].toUpperCase(), match[2], startLine]);
  });
  if (pending !== '') throw new DockerfileError('the Dockerfile ends with a line continuation');
  return result;
}

function execForm(value: string, instruction: string, line: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new DockerfileError(`line ${line}: ${instruction} must use the exec (JSON array) form`);
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    throw new DockerfileError(`line ${line}: ${instruction} must be a JSON array of strings`);
  }
  return parsed;
}

export function parseDockerfile(text: string): ImageRecipe {
  const recipe: ImageRecipe = { from: '', workdir: '/', steps: [], env: {}, exposedPorts: [] };
  for (const [instruction, args, line] of instructions(text)) {
    switch (instruction) {
      case 'FROM':
        if (recipe.from)
          throw new DockerfileError(`line ${line}: multi-stage builds are not supported by the local builder`);
        recipe.from = args.trim();
        break;
      case 'WORKDIR':
        recipe.workdir = args.trim().startsWith('/')
          ? args.trim()
          : `${recipe.workdir.replace(/\/$/, '')}/${args.trim()}`;
        recipe.steps.push({ kind: 'run', script: `mkdir -p '${recipe.workdir}'` });
        break;
      case 'COPY': {
        const words = args.trim().split(/\s+/);
        if (words.some((word) => word.startsWith('--')))
          throw new DockerfileError(
            `line ${line}: COPY flags (${words.filter((w) => w.startsWith('--')).join(' ')}) are not supported`,
          );
        if (words.length < 2) throw new DockerfileError(`line ${line}: COPY needs a source and a destination`);
        const destination = words.at(-1)!;
        recipe.steps.push({
          kind: 'copy',
          sources: words.slice(0, -1),
          destination: destination.startsWith('/')
            ? destination
            : `${recipe.workdir.replace(/\/$/, '')}/${destination}`,
        });
        break;
      }
      case 'RUN':
        recipe.steps.push({ kind: 'run', script: args.trim() });
        break;
      case 'USER':
        recipe.user = args.trim();
        break;
      case 'ENV': {
        const match = /^(\w+)[=\s]\s*(.*)$/.exec(args.trim());
        if (!match?.[1] || match[2] === undefined)
          throw new DockerfileError(`line ${line}: ENV must be 'ENV NAME=value'`);
        recipe.env[match[1]] = match[2];
        break;
      }
      case 'EXPOSE':
        for (const port of args.trim().split(/\s+/))
          recipe.exposedPorts.push(port.includes('/') ? port : `${port}/tcp`);
        break;
      case 'ENTRYPOINT':
        recipe.entrypoint = execForm(args.trim(), instruction, line);
        // As in Docker, a new ENTRYPOINT resets a CMD inherited so far.
        delete recipe.cmd;
        break;
      case 'CMD':
        recipe.cmd = execForm(args.trim(), instruction, line);
        break;
      default:
        throw new DockerfileError(
          `line ${line}: the local image builder does not understand ${instruction}; teach packages/testenv/src/cluster/dockerfile.ts or change the Dockerfile`,
        );
    }
  }
  if (!recipe.from) throw new DockerfileError('the Dockerfile has no FROM');
  return recipe;
}

/** The Node major a `node:<major>-…` base names, or an error naming what the builder provides. */
export function nodeMajorOf(from: string): number {
  const match = /^node:(\d+)(-[\w.-]+)?$/.exec(from);
  if (!match?.[1])
    throw new DockerfileError(
      `FROM ${from}: the local builder provides only node:<major>-… bases (from the npm 'node' package)`,
    );
  return Number(match[1]);
}

/**
 * The node flags of a wrapper script a Dockerfile's RUN writes (`exec node <flags> <script>`): what the
 * image runs `script` with, for the tests and benchmarks that start the bundle as the image does.
 */
export function wrapperNodeFlags(dockerfileText: string, script: string): string[] {
  const escaped = script.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const line = new RegExp(`exec node ((?:--\\S+ )*)${escaped}\\b`).exec(dockerfileText);
  if (!line) throw new DockerfileError(`no wrapper 'exec node [flags] ${script}' in the Dockerfile`);
  return (line[1] ?? '').split(' ').filter(Boolean);
}
