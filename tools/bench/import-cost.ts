// What each dependency costs at import (issue 14): every import a service's bundle makes, bundled alone
// the way tools/bundle.js bundles the service (minified ESM, Node 24, the same conditions), imported by a
// fresh node started with the service's shipped node flags and image ENV plus --expose-gc: RSS after a
// full GC before and after the import. The median of `runs` processes; each dependency in its own
// process, so one does not pay for what another loaded first (node:http, node:tls...), which is why the
// rows do not add up to a bundle's total.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '@vaultbridge/testenv';
import { serviceBuildOptions } from '../bundle-plugins.js';

export interface ImportCost {
  service: string;
  module: string;
  bundleKiB: number;
  rssMiB: number;
  heapMiB: number;
  /** RSS with Node's common built-in modules already loaded: what the library itself adds to a service. */
  rssAfterBuiltinsMiB: number;
}

/** The imports to price per service, as the service's code writes them (a package, a subpath, a named export). */
export const serviceImports: Record<string, { packageDir: string; imports: Record<string, string> }> = {
  webhook: {
    packageDir: 'packages/injector',
    imports: {
      '@kubernetes/client-node': "import * as m from '@kubernetes/client-node'; globalThis.keep = m.KubeConfig;",
      express: "import express from 'express'; globalThis.keep = express();",
      'prom-client (registry + default metrics)':
        "import * as p from 'prom-client'; const r = new p.Registry(); p.collectDefaultMetrics({ register: r }); globalThis.keep = r;",
      'prom-client (registry only)':
        "import * as p from 'prom-client'; globalThis.keep = [new p.Registry(), p.Counter, p.Histogram, p.Gauge];",
      '@peculiar/x509 (with reflect-metadata)':
        "import 'reflect-metadata'; import * as x from '@peculiar/x509'; globalThis.keep = x.X509CertificateGenerator;",
      pino: "import pino from 'pino'; globalThis.keep = pino({ level: 'warn' });",
      yaml: "import * as y from 'yaml'; globalThis.keep = y.parse;",
      commander: "import { Command } from 'commander'; globalThis.keep = new Command();",
    },
  },
  'CSI provider': {
    packageDir: 'packages/csi-provider',
    imports: {
      '@grpc/grpc-js': "import * as g from '@grpc/grpc-js'; globalThis.keep = g.Server;",
      'protobufjs (light: the built-in descriptor, no .proto parser)':
        "import protobuf from 'protobufjs/light.js'; globalThis.keep = protobuf.Root.fromJSON({ nested: {} });",
      axios: "import axios from 'axios'; globalThis.keep = axios.create();",
      zod: "import { z } from 'zod'; globalThis.keep = z.object({ a: z.string() });",
      'prom-client (registry + default metrics)':
        "import * as p from 'prom-client'; const r = new p.Registry(); p.collectDefaultMetrics({ register: r }); globalThis.keep = r;",
      'prom-client (registry only)':
        "import * as p from 'prom-client'; globalThis.keep = [new p.Registry(), p.Counter, p.Histogram, p.Gauge];",
      pino: "import pino from 'pino'; globalThis.keep = pino({ level: 'warn' });",
      '@kubernetes/client-node (lazy: TokenRequest fallback)':
        "import * as m from '@kubernetes/client-node'; globalThis.keep = m.KubeConfig;",
    },
  },
  agent: {
    packageDir: 'packages/agent',
    imports: {
      axios: "import axios from 'axios'; globalThis.keep = axios.create();",
      zod: "import { z } from 'zod'; globalThis.keep = z.object({ a: z.string() });",
      pino: "import pino from 'pino'; globalThis.keep = pino({ level: 'warn' });",
      yaml: "import * as y from 'yaml'; globalThis.keep = y.parse;",
      'prom-client (registry only, lazy: metrics listener)':
        "import * as p from 'prom-client'; globalThis.keep = [new p.Registry(), p.Counter, p.Histogram, p.Gauge];",
      'Go templates (@vaultbridge/core/template)':
        "import * as t from '@vaultbridge/core/template'; globalThis.keep = t;",
      'Vault client (@vaultbridge/core/vault)': "import * as v from '@vaultbridge/core/vault'; globalThis.keep = v;",
    },
  },
};

// Node's own modules a dependency loads first (http, tls, zlib...) are compiled then too, and every
// service loads most of them anyway: the second measure imports them before the baseline.
const builtins = [
  'node:http',
  'node:https',
  'node:http2',
  'node:tls',
  'node:net',
  'node:zlib',
  'node:crypto',
  'node:stream',
  'node:fs',
  'node:events',
  'node:url',
  'node:util',
  'node:os',
  'node:path',
  'node:child_process',
  'node:worker_threads',
  'node:perf_hooks',
];
const probe = `
if (process.argv[3] === 'preload') for (const name of ${JSON.stringify(builtins)}) await import(name);
const rss = () => process.memoryUsage().rss;
const settle = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
settle();
const before = rss(), heapBefore = process.memoryUsage().heapUsed;
await import(process.argv[2]);
await new Promise((resolve) => setTimeout(resolve, 200));
settle();
console.log(JSON.stringify({ rss: rss() - before, heap: process.memoryUsage().heapUsed - heapBefore }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Bundles `source` as tools/bundle.js bundles a service, resolving from `packageDir`; returns the file and its size. */
async function bundleOne(source: string, packageDir: string, outFile: string): Promise<number> {
  await build({
    ...serviceBuildOptions,
    stdin: { contents: source, resolveDir: packageDir, loader: 'ts' },
    minify: true,
    outfile: outFile,
    logLevel: 'error',
  });
  return fs.statSync(outFile).size;
}

export async function measureImportCosts(
  service: string,
  nodeFlags: string[],
  env: Record<string, string>,
  runs = 3,
): Promise<ImportCost[]> {
  const spec = serviceImports[service];
  if (!spec) throw new Error(`no import list for ${service}: choose from ${Object.keys(serviceImports).join(', ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-import-cost-'));
  const probeFile = path.join(dir, 'probe.mjs');
  fs.writeFileSync(probeFile, probe);
  const costs: ImportCost[] = [];
  try {
    let n = 0;
    for (const [module, source] of Object.entries(spec.imports)) {
      const file = path.join(dir, `m${n++}.mjs`);
      const bytes = await bundleOne(source, path.join(repoRoot, spec.packageDir), file);
      const sample = (mode: 'bare' | 'preload') => {
        const run = spawnSync(process.execPath, [...nodeFlags, '--expose-gc', probeFile, file, mode], {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        });
        if (run.status !== 0) throw new Error(`importing ${module} failed: ${run.stderr.slice(-1000)}`);
        return JSON.parse(run.stdout.trim().split('\n').pop() as string) as { rss: number; heap: number };
      };
      const samples = Array.from({ length: runs }, () => sample('bare'));
      const preloaded = Array.from({ length: runs }, () => sample('preload'));
      costs.push({
        service,
        module,
        bundleKiB: bytes / 1024,
        rssMiB: median(samples.map((s) => s.rss)) / 1024 ** 2,
        heapMiB: median(samples.map((s) => s.heap)) / 1024 ** 2,
        rssAfterBuiltinsMiB: median(preloaded.map((s) => s.rss)) / 1024 ** 2,
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return costs;
}

export function printImportCosts(costs: ImportCost[]): void {
  console.log(
    '\nImport cost (each alone in a bundle, fresh node with the shipped flags; RSS and V8 heap after full GC, median of 3)',
  );
  console.log(
    '| service | import | bundle | RSS on a bare node | of which V8 heap | RSS with node:http/https/tls/zlib/... loaded first |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const c of costs) {
    console.log(
      `| ${c.service} | ${c.module} | ${c.bundleKiB.toFixed(0)} KiB | +${c.rssMiB.toFixed(1)} MiB | +${c.heapMiB.toFixed(1)} MiB | +${c.rssAfterBuiltinsMiB.toFixed(1)} MiB |`,
    );
  }
}
