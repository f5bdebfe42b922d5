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

export function sameConditions(a: Condition[] | undefined, b: Condition[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
