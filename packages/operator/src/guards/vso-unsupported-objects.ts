// VSO group mode: objects of VSO kinds that cannot work here (HCPAuth, HCPVaultSecretsApp, CSISecrets;
// api/vso-unsupported.ts) are left alone, and said so: each one found gets a Warning Event
// `UnsupportedKind` (what `kubectl describe` shows) and a log line with the reason and what to use
// instead, once per object per process. Looked for at start and then every few minutes. A kind whose CRD
// is not installed is skipped; any error is logged and never stops the operator.
import { CustomApi } from '../runtime/kube-api.ts';
import type { KubeJson } from '../runtime/kube-json.ts';
import { isNotFound, kubeStatusOf, type Logger } from '@vaultbridge/core';
import { apiVersionOf, type ApiGroup } from '../api/common.ts';
import { UNSUPPORTED_VSO_KINDS, unsupportedMessage, type UnsupportedVsoKind } from '../api/vso-unsupported.ts';
import type { EventRecorder } from '../runtime/events.ts';

export const UNSUPPORTED_RECHECK_MS = 5 * 60_000;

export interface UnsupportedObject {
  kind: string;
  namespace: string;
  name: string;
  message: string;
}

interface ListedObject {
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export class UnsupportedVsoObjects {
  private readonly custom: CustomApi;
  private readonly reported = new Set<string>();
  private readonly refusedKinds = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly api: ApiGroup;
  private readonly events: EventRecorder;
  private readonly logger: Logger;

  constructor(kube: KubeJson, api: ApiGroup, events: EventRecorder, logger: Logger) {
    this.custom = new CustomApi(kube);
    this.api = api;
    this.events = events;
    this.logger = logger;
  }

  /** Looks now and then every `intervalMs`. */
  start(intervalMs = UNSUPPORTED_RECHECK_MS): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reports the objects not reported before; returns them. Never throws. */
  async check(): Promise<UnsupportedObject[]> {
    const found: UnsupportedObject[] = [];
    for (const row of UNSUPPORTED_VSO_KINDS) {
      for (const object of await this.list(row)) {
        const namespace = object.metadata?.namespace ?? '';
        const name = object.metadata?.name ?? '';
        const key = `${row.kind}/${object.metadata?.uid ?? `${namespace}/${name}`}`;
        if (this.reported.has(key)) continue;
        this.reported.add(key);
        const message = `${unsupportedMessage(row)}. The operator leaves this object alone.`;
        this.logger.warn({ kind: row.kind, namespace, name, detail: message }, 'unsupported VSO kind');
        await this.events.record(
          { apiVersion: apiVersionOf(this.api), kind: row.kind, metadata: { ...object.metadata, name, namespace } },
          'Warning',
          'UnsupportedKind',
          message,
        );
        found.push({ kind: row.kind, namespace, name, message });
      }
    }
    return found;
  }

  private async list(row: UnsupportedVsoKind): Promise<ListedObject[]> {
    try {
      const list = (await this.custom.listClusterCustomObject({ ...this.api, plural: row.plural })) as {
        items?: ListedObject[];
      };
      return list.items ?? [];
    } catch (error) {
      // No such CRD: VSO's chart was never installed with it, or it was removed. Nothing to report.
      if (isNotFound(error)) return [];
      const status = kubeStatusOf(error);
      if (!this.refusedKinds.has(row.kind)) {
        this.refusedKinds.add(row.kind);
        this.logger.warn(
          { kind: row.kind, status, err: error },
          `cannot list ${row.plural}.${this.api.group} to report objects Vaultbridge does not serve${status === 403 ? ' (the chart grants list on them in VSO group mode)' : ''}`,
        );
      }
      return [];
    }
  }
}
