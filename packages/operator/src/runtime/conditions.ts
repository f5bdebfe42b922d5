import type { Condition } from '../api/common.ts';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/**
 * Sets conditions by type. Unlike VSO, `lastTransitionTime` changes only when the status does, so it
 * says when the object last changed state, as metav1.Condition means it to.
 */
export function setConditions(
  current: Condition[] | undefined,
  updates: ConditionInput[],
  now: Date = new Date(),
): Condition[] {
  const result = [...(current ?? [])];
  for (const update of updates) {
    const index = result.findIndex((condition) => condition.type === update.type);
    const previous = index >= 0 ? result[index] : undefined;
    const lastTransitionTime =
      previous && previous.status === update.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const next: Condition = { ...update, lastTransitionTime };
    if (index >= 0) result[index] = next;
    else result.push(next);
  }
  return result;
}

/** The same failure as condition `status: False` of each type (e.g. SecretSynced, Healthy and Ready at once). */
export function failedConditions(
  types: readonly string[],
  failure: { reason: string; message: string },
  observedGeneration: number,
): ConditionInput[] {
  return types.map((type) => ({
    type,
    status: 'False',
    reason: failure.reason,
    message: failure.message,
    observedGeneration,
  }));
}

export function sameConditions(a: Condition[] | undefined, b: Condition[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
