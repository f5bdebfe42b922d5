/** Drop keys whose value is undefined, so the spec (and the JSON made from it) has no empty keys. */
export function withoutUndefined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as T;
}
