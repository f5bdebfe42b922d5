// npm run bench: runs every benchmark, prints tables and writes JSON under bench/results/.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@vaultbridge/testenv';
import { benchAgentInit, printAgentTable } from './agent-init.ts';
import { benchWebhook, printWebhookTable } from './injector-webhook.ts';
import { benchCsiMount, printCsiTable } from './csi-mount.ts';
import { benchOperatorSync, printOperatorTable } from './operator-sync.ts';
import { benchInstantUpdates, printInstantTable } from './instant-updates.ts';
import { benchTemplates, printTemplatesTable } from './templates.ts';
import { benchCsiFootprint, printCsiFootprint } from './csi-footprint.ts';
import { benchAgentFootprint, printAgentFootprint } from './agent-footprint.ts';
import { benchWebhookFootprint, injectorNodeFlags, printWebhookFootprint } from './webhook-footprint.ts';
import { agentNodeFlags } from './agent-footprint.ts';
import { shippedEnv, shippedNodeFlags } from './footprint.ts';
import { measureImportCosts, printImportCosts, type ImportCost } from './import-cost.ts';
import { benchOperatorFootprint, printOperatorFootprint } from './operator-footprint.ts';
import { measureReviewAllocation, printReviewAllocation } from './review-allocation.ts';

// `npm run bench -- webhook` runs only the named benchmarks (webhook, agent, csi, operator, instant,
// templates); no names runs all of those. `footprint` runs every footprint check (issue 14), `footprint-csi` one
// service's; `import-cost` what each dependency costs at import in each service; `review-allocation` the
// bytes a webhook review allocates; `--cgroup-seconds N` shortens the cgroup runs (default 300: five minutes, as the issue asks).
const known = [
  'webhook',
  'agent',
  'csi',
  'operator',
  'instant',
  'templates',
  'footprint',
  'footprint-csi',
  'footprint-agent',
  'footprint-webhook',
  'footprint-operator',
  'import-cost',
  'review-allocation',
];
const argv = process.argv.slice(2);
let cgroupSeconds = 300;
const secondsAt = argv.findIndex((arg) => arg === '--cgroup-seconds' || arg.startsWith('--cgroup-seconds='));
if (secondsAt !== -1) {
  const [flag] = argv.splice(secondsAt, 1) as [string];
  const text = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : argv.splice(secondsAt, 1)[0];
  cgroupSeconds = Number(text);
  if (!Number.isInteger(cgroupSeconds) || cgroupSeconds < 1) {
    console.error(`--cgroup-seconds: expected a whole number of seconds, got "${text ?? ''}"`);
    process.exit(2);
  }
}
const wanted = argv;
const unknown = wanted.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${known.join(', ')}`);
  process.exit(2);
}
// Every service the benchmarks start inherits this process's environment, and this machine's holds trust
// settings a pod's container does not: NODE_EXTRA_CA_CERTS makes each Node process parse the host's ~140
// CA certificates at start (webhook idle 77 -> 76 MiB without it), SSL_CERT_FILE and SSL_CERT_DIR point
// OpenSSL at the host's store. Measured as the pod runs: without them, and without NODE_OPTIONS.
delete process.env.NODE_EXTRA_CA_CERTS;
delete process.env.SSL_CERT_FILE;
delete process.env.SSL_CERT_DIR;
delete process.env.NODE_OPTIONS;
const runs = (name: string) => wanted.length === 0 || wanted.includes(name);
const footprint = (service: string) => wanted.includes('footprint') || wanted.includes(`footprint-${service}`);

const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
if (runs('webhook')) {
  const webhook = await benchWebhook();
  printWebhookTable(webhook);
  results.injectorWebhook = webhook;
}
if (runs('agent')) {
  const agent = await benchAgentInit();
  printAgentTable(agent);
  results.agentInit = agent;
}
if (runs('csi')) {
  const csi = await benchCsiMount();
  printCsiTable(csi);
  results.csiMount = csi;
}
if (runs('operator')) {
  const operator = await benchOperatorSync();
  printOperatorTable(operator);
  results.operatorSync = operator;
}
if (runs('instant')) {
  const instant = await benchInstantUpdates();
  printInstantTable(instant);
  results.instantUpdates = instant;
}

if (runs('templates')) {
  const templates = await benchTemplates();
  printTemplatesTable(templates);
  results.templates = templates;
}
if (footprint('csi')) {
  const csi = await benchCsiFootprint(cgroupSeconds);
  printCsiFootprint(csi);
  results.csiFootprint = csi;
}
if (footprint('agent')) {
  const agent = await benchAgentFootprint(cgroupSeconds);
  printAgentFootprint(agent);
  results.agentFootprint = agent;
}
if (footprint('webhook')) {
  const webhook = await benchWebhookFootprint(cgroupSeconds);
  printWebhookFootprint(webhook);
  results.webhookFootprint = webhook;
}

if (footprint('operator')) {
  const operator = await benchOperatorFootprint(cgroupSeconds);
  printOperatorFootprint(operator);
  results.operatorFootprint = operator;
}

if (wanted.includes('import-cost')) {
  const dockerfile = (pkg: string) => path.join(repoRoot, 'packages', pkg, 'Dockerfile');
  const costs: ImportCost[] = [
    ...(await measureImportCosts('webhook', injectorNodeFlags(), shippedEnv(dockerfile('injector')))),
    ...(await measureImportCosts(
      'CSI provider',
      shippedNodeFlags(dockerfile('csi-provider')),
      shippedEnv(dockerfile('csi-provider')),
    )),
    ...(await measureImportCosts('agent', agentNodeFlags(), shippedEnv(dockerfile('agent')))),
  ];
  printImportCosts(costs);
  results.importCosts = costs;
}

if (wanted.includes('review-allocation') || footprint('webhook')) {
  const allocation = measureReviewAllocation();
  printReviewAllocation(allocation);
  results.reviewAllocation = allocation;
}

const dir = path.join(repoRoot, 'bench/results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `bench-${results.date as string}.json`.replace(/:/g, '-'));
fs.writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nresults written to ${path.relative(repoRoot, file)}`);
