import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../binaries.ts';
import { DockerfileError, nodeMajorOf, parseDockerfile, wrapperNodeFlags } from './dockerfile.ts';
import { nodeBinary, servicePackages } from './images.ts';

describe('parseDockerfile', () => {
  it.each(servicePackages)(
    'understands every instruction of packages/%s/Dockerfile, on the Node major the repo pins',
    (pkg) => {
      const recipe = parseDockerfile(fs.readFileSync(path.join(repoRoot, 'packages', pkg, 'Dockerfile'), 'utf8'));
      expect(nodeMajorOf(recipe.from)).toBe(nodeBinary().major);
      expect(recipe.entrypoint?.length).toBeGreaterThan(0);
      expect(recipe.steps.some((s) => s.kind === 'copy')).toBe(true);
    },
  );

  it('reads the instructions our Dockerfiles use, with continuation lines and comments', () => {
    const recipe = parseDockerfile(`# a comment
FROM node:24-bookworm-slim
WORKDIR /app
COPY dist/a.mjs dist/b.mjs /app/
COPY proto /app/proto
RUN printf 'x' > /usr/local/bin/x \\
 && chmod 0755 /usr/local/bin/x
ENV NODE_ENV=production
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/a.mjs"]
CMD ["serve"]
`);
    expect(recipe).toEqual({
      from: 'node:24-bookworm-slim',
      workdir: '/app',
      steps: [
        { kind: 'run', script: "mkdir -p '/app'" },
        { kind: 'copy', sources: ['dist/a.mjs', 'dist/b.mjs'], destination: '/app/' },
        { kind: 'copy', sources: ['proto'], destination: '/app/proto' },
        { kind: 'run', script: "printf 'x' > /usr/local/bin/x  && chmod 0755 /usr/local/bin/x" },
      ],
      user: '65532:65532',
      env: { NODE_ENV: 'production' },
      exposedPorts: ['8080/tcp'],
      entrypoint: ['node', '/app/a.mjs'],
      cmd: ['serve'],
    });
  });

  it.each([
    ['an unknown instruction', 'FROM node:24\nHEALTHCHECK CMD true\n', /does not understand HEALTHCHECK/],
    ['a second FROM (multi-stage)', 'FROM node:24 AS build\nFROM node:24\n', /multi-stage/],
    ['COPY --from', 'FROM node:24\nCOPY --from=build /a /b\n', /COPY flags \(--from=build\)/],
    ['shell-form ENTRYPOINT', 'FROM node:24\nENTRYPOINT node /app/a.mjs\n', /exec \(JSON array\) form/],
    ['no FROM', 'WORKDIR /app\n', /no FROM/],
  ])('refuses %s by name', (_name, text, message) => {
    expect(() => parseDockerfile(text)).toThrow(DockerfileError);
    expect(() => parseDockerfile(text)).toThrow(message);
  });

  it("reads the node flags of a wrapper script's exec line, and names the script it cannot find", () => {
    const text = `FROM node:24\nRUN printf '#!/bin/sh\\nexec node --no-maglev --expose-gc /app/injector.mjs "$@"\\n' > /usr/local/bin/x\n`;
    expect(wrapperNodeFlags(text, '/app/injector.mjs')).toEqual(['--no-maglev', '--expose-gc']);
    expect(() => wrapperNodeFlags(text, '/app/agent.mjs')).toThrow("no wrapper 'exec node [flags] /app/agent.mjs'");
    const injector = fs.readFileSync(path.join(repoRoot, 'packages/injector/Dockerfile'), 'utf8');
    expect(wrapperNodeFlags(injector, '/app/injector.mjs')).toContain('--expose-gc');
  });

  it('refuses a base the builder cannot provide', () => {
    expect(() => nodeMajorOf('debian:bookworm')).toThrow(/only node:<major>-… bases/);
    expect(nodeMajorOf('node:24-bookworm-slim')).toBe(24);
  });
});
