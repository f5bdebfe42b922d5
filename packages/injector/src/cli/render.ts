// `vaultbridge-injector render [--namespace NS] [--vault-addr URL] [-o yaml|json] FILE`: what the webhook
// would do to the pods in a manifest, offline. Same decision and patch code as the webhook; the output is
// the patch applied to the input, as the API server would store it.

import { readFile } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { Command } from 'commander';
import jsonPatch from 'fast-json-patch';
import { parseAllDocuments, stringify } from 'yaml';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import { formatIssue } from '../annotations/errors.ts';
import { decide } from '../admission/decide.ts';
import { findPod } from './pod-templates.ts';
import { createProgram, readStdin, runProgram, type CliIo } from '@vaultbridge/core';
import { applyServiceAccountAdmission } from './service-account-admission.ts';

export type OutputFormat = 'yaml' | 'json';

export interface RenderOptions {
  /** request namespace; else each document's metadata.namespace; else `default` */
  readonly namespace?: string;
  readonly defaults: InjectorDefaults;
  /** apply what the ServiceAccount admission plugin adds before webhooks run */
  readonly serviceAccountAdmission: boolean;
}

export type RenderOutcome =
  | { readonly ok: true; readonly documents: readonly unknown[]; readonly notes: readonly string[] }
  /** `badInput`: the manifest could not be read as YAML/JSON documents (else: a pod was denied) */
  | { readonly ok: false; readonly badInput: boolean; readonly errors: readonly string[] };

/** Placeholder address so a bare `render pod.yaml` works: the Helm chart's in-cluster Vault service. */
export const RENDER_DEFAULT_VAULT_ADDR = 'https://vault.vault.svc:8200';

function describe(document: unknown, index: number): string {
  const record = (typeof document === 'object' && document !== null ? document : {}) as {
    kind?: unknown;
    metadata?: { name?: unknown; generateName?: unknown };
  };
  const kind = typeof record.kind === 'string' ? record.kind : 'document';
  const name = record.metadata?.name ?? record.metadata?.generateName;
  return typeof name === 'string' ? `${kind} ${name}` : `${kind} #${index + 1}`;
}

/** Render every document of a YAML/JSON manifest. Pure apart from its inputs. */
export function renderManifest(text: string, options: RenderOptions): RenderOutcome {
  const parsed = parseAllDocuments(text);
  const yamlErrors = parsed.flatMap((d) => d.errors.map((e) => e.message));
  if (yamlErrors.length > 0) return { ok: false, badInput: true, errors: yamlErrors.map((m) => `invalid YAML: ${m}`) };
  const documents = parsed.map((d) => d.toJS() as unknown).filter((d) => d !== null && d !== undefined);
  if (documents.length === 0) return { ok: false, badInput: true, errors: ['the manifest holds no documents'] };

  const out: unknown[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  for (const [index, document] of documents.entries()) {
    const slot = findPod(document);
    if (slot === undefined) {
      out.push(document);
      continue;
    }
    const label = describe(document, index);
    const pod = options.serviceAccountAdmission ? applyServiceAccountAdmission(slot.pod) : slot.pod;
    const decision = decide(pod, options.namespace ?? pod.metadata?.namespace ?? 'default', options.defaults);
    switch (decision.kind) {
      case 'deny':
        // One line per invalid annotation reads better in a terminal than the webhook's single message.
        if (decision.issues === undefined) errors.push(`${label}: denied: ${decision.message}`);
        else errors.push(...decision.issues.map((issue) => `${label}: denied: ${formatIssue(issue)}`));
        break;
      case 'skip':
        notes.push(`${label}: not injected: ${decision.message}`);
        out.push(document);
        break;
      case 'inject': {
        // Apply the patch rather than print decision.pod: the output is then exactly what the webhook's
        // answer makes of the pod.
        const patched = jsonPatch.applyPatch(structuredClone(pod), structuredClone([...decision.patch]), true, true)
          .newDocument as V1Pod;
        notes.push(...decision.warnings.map((w) => `${label}: warning: ${w}`));
        out.push(slot.put(patched));
        break;
      }
    }
  }
  return errors.length > 0 ? { ok: false, badInput: false, errors } : { ok: true, documents: out, notes };
}

export function formatDocuments(documents: readonly unknown[], format: OutputFormat): string {
  if (format === 'json') {
    const value = documents.length === 1 ? documents[0] : { apiVersion: 'v1', kind: 'List', items: documents };
    return `${JSON.stringify(value, null, 2)}\n`;
  }
  // The agents share mount objects; YAML anchors and aliases for them would be valid but unreadable.
  return documents.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** The message of anything thrown (node errors may come from another realm, so no instanceof). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

async function readInput(file: string, io: CliIo): Promise<string> {
  return file === '-' ? readStdin(io) : readFile(file, 'utf8');
}

interface RenderFlags {
  readonly namespace?: string;
  readonly vaultAddr?: string;
  readonly output: string;
  readonly agentImage?: string;
  readonly nativeSidecar?: boolean;
  readonly serviceAccountAdmission: boolean;
}

/** Adds `render` to the injector's command line; `setExitCode` receives 0, 1 (denied) or 2 (bad input). */
export function addRenderCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): Command {
  const env = io.env ?? {};
  return program
    .command('render')
    .description('print what the webhook would do to the pods in a manifest (Pod or workload), without a cluster')
    .argument('<file>', 'YAML or JSON manifest; `-` reads standard input')
    .option('-n, --namespace <namespace>', 'namespace of the request (default: the manifest\'s, else "default")')
    .option('--vault-addr <url>', `Vault address [AGENT_INJECT_VAULT_ADDR] (default: ${RENDER_DEFAULT_VAULT_ADDR})`)
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('--agent-image <image>', 'agent image [AGENT_INJECT_VAULT_IMAGE]')
    .option('--native-sidecar', 'inject native sidecars unless a pod says otherwise')
    .option('--no-service-account-admission', 'do not add the service-account token volume the API server would add')
    .action(async (file: string, flags: RenderFlags) => {
      if (flags.output !== 'yaml' && flags.output !== 'json') {
        io.stderr.write(`render: --output must be yaml or json, not ${JSON.stringify(flags.output)}\n`);
        setExitCode(2);
        return;
      }
      let text: string;
      try {
        text = await readInput(file, io);
      } catch (error) {
        io.stderr.write(`render: cannot read ${file}: ${messageOf(error)}\n`);
        setExitCode(2);
        return;
      }
      const agentImage = flags.agentImage ?? env.AGENT_INJECT_VAULT_IMAGE;
      const defaults: InjectorDefaults = {
        vaultAddress: flags.vaultAddr ?? env.AGENT_INJECT_VAULT_ADDR ?? RENDER_DEFAULT_VAULT_ADDR,
        ...(agentImage === undefined ? {} : { agentImage }),
        ...(flags.nativeSidecar === true ? { nativeSidecar: true } : {}),
      };
      const outcome = renderManifest(text, {
        ...(flags.namespace === undefined ? {} : { namespace: flags.namespace }),
        defaults,
        serviceAccountAdmission: flags.serviceAccountAdmission,
      });
      if (!outcome.ok) {
        for (const error of outcome.errors) io.stderr.write(`render: ${error}\n`);
        setExitCode(outcome.badInput ? 2 : 1);
        return;
      }
      for (const note of outcome.notes) io.stderr.write(`render: ${note}\n`);
      io.stdout.write(formatDocuments(outcome.documents, flags.output));
      setExitCode(0);
    });
}

/** `vaultbridge-injector render ARGV...` with the given streams; resolves to the exit code. */
export function runRender(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = createProgram('vaultbridge-injector', 'offline renderer', io);
  addRenderCommand(program, io, (code) => (exitCode = code));
  return runProgram(program, ['render', ...argv], () => exitCode);
}
