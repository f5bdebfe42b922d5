import { StringInterner } from './intern.ts';

describe('StringInterner', () => {
  test('interns the string values of a JSON-shaped object in place, leaving its content as it was', () => {
    const interner = new StringInterner();
    const parse = () =>
      JSON.parse(
        '{"apiVersion":"secrets.vaultbridge.dev/v1beta1","metadata":{"namespace":"app","labels":{"a":"b"},"creationTimestamp":"2026-12-06T16:00:00Z"},"status":{"conditions":[{"type":"Ready","status":"True"}],"tags":["x","y"],"count":3,"ok":true,"none":null}}',
      ) as Record<string, unknown>;
    const first = parse();
    const expected = parse();
    expect(interner.internValues(first)).toBe(first);
    expect(first).toEqual(expected);
    const second = interner.internValues(parse());
    expect(second).toEqual(expected);
    // Each distinct short value is in the table once, however many objects carried it.
    expect(interner.size).toBe(8);
  });

  test('leaves long strings, Dates and keys alone', () => {
    const interner = new StringInterner();
    const long = 'x'.repeat(129);
    const when = new Date('2026-12-06T16:00:00Z');
    const object = { template: long, when, nested: { [long]: 'short' } };
    interner.internValues(object);
    expect(object).toEqual({ template: long, when: new Date('2026-12-06T16:00:00Z'), nested: { [long]: 'short' } });
    expect(interner.size).toBe(1);
  });

  test('the table is bounded: it starts again when full', () => {
    const interner = new StringInterner(100);
    for (let index = 0; index < 1000; index++) interner.intern(`resource-version-${index}`);
    expect(interner.size).toBeLessThanOrEqual(100);
    expect(interner.intern('resource-version-999')).toBe('resource-version-999');
  });
});
