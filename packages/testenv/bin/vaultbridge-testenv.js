#!/usr/bin/env node
// Runs the TypeScript CLI directly: the repo's Node 24 strips types natively.
await import('../src/cli.ts');
