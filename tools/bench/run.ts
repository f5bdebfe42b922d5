// npm run bench: runs every benchmark, prints tables and writes JSON under bench/results/.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@vaultbridge/testenv';
import { benchAgentInit, printAgentTable } from './agent-init.ts';
import { benchWebhook, printWebhookTable } from './injector-webhook.ts';

const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };
const webhook = await benchWebhook();
printWebhookTable(webhook);
results.injectorWebhook = webhook;
const agent = await benchAgentInit();
printAgentTable(agent);
results.agentInit = agent;

const dir = path.join(repoRoot, 'bench/results');
fs.mkdirSync(dir, { recursive: true });
const file = path.join(dir, `bench-${results.date as string}.json`.replace(/:/g, '-'));
fs.writeFileSync(file, JSON.stringify(results, null, 2));
console.log(`\nresults written to ${path.relative(repoRoot, file)}`);
