// npm run bench: runs every benchmark, prints tables and writes JSON under bench/results/.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@vaultbridge/testenv';
import { benchAgentInit, printAgentTable } from './agent-init.ts';
import { benchWebhook, printWebhookTable } from './injector-webhook.ts';
import { benchCsiMount, printCsiTable } from './csi-mount.ts';
import { benchOperatorSync, printOperatorTable } from './operator-sync.ts';
import { benchTemplates, printTemplatesTable } from './templates.ts';

// `npm run bench -- webhook` runs only the named benchmarks (webhook, agent, csi, operator, templates); no names runs all.
const known = ['webhook', 'agent', 'csi', 'operator', 'templates'];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}: choose from ${known.join(', ')}`);
  process.exit(2);
}
const runs = (name: string) => wanted.length === 0 || wanted.includes(name);

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

if (runs('templates')) {
  const templates = await benchTemplates();
  printTemplatesTable(templates);
  results.templates = templates;
}

const dir = path.join(repoRoot, 'bench/results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `bench-${results.date as string}.json`.replace(/:/g, '-'));
fs.writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nresults written to ${path.relative(repoRoot, file)}`);
