// Kubernetes Events on the custom resources (what `kubectl describe` shows): syncs that changed a
// Secret, rollout restarts, failures. Messages carry names and reasons, never secret values. Recording
// is best effort: a failed Event is logged and never fails a reconcile.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeJson } from './kube-json.ts';
import type { Logger } from '@vaultbridge/core';

export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export type EventType = 'Normal' | 'Warning';

/** Event messages are capped (the API server limits them to 1 KiB). */
const MAX_MESSAGE = 1024;

export class EventRecorder {
  private readonly json: KubeJson;
  private readonly component: string;
  private readonly logger: Logger;

  constructor(kube: KubeJson, component: string, logger: Logger) {
    // Plain JSON: one Event per sync, whose answer nobody reads (see KubeJson).
    this.json = kube;
    this.component = component;
    this.logger = logger;
  }

  async record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = subject.metadata.namespace ?? 'default';
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${subject.metadata.name}.`, namespace },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        name: subject.metadata.name,
        namespace,
        ...(subject.metadata.uid ? { uid: subject.metadata.uid } : {}),
        ...(subject.metadata.resourceVersion ? { resourceVersion: subject.metadata.resourceVersion } : {}),
      },
      type,
      reason,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
      source: { component: this.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.json.createEvent(namespace, body);
    } catch (error) {
      this.logger.warn(
        { err: error, reason, object: `${subject.kind}/${namespace}/${subject.metadata.name}` },
        'could not record an Event',
      );
    }
  }
}
