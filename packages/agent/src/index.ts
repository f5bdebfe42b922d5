// Public API of @vaultbridge/agent: the CLI entry (`vaultbridge-agent`) and the webhook-agent contract.
// The webhook imports only `@vaultbridge/agent/contract`, never the agent's running parts.

export * from './contract/index.ts';
export { runAgentCli } from './cli/agent.ts';
