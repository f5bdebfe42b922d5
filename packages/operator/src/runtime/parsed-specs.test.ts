import { ParsedSpecs } from './parsed-specs.ts';

function counted(): { parse: () => { n: number }; calls: () => number } {
  let calls = 0;
  return { parse: () => ({ n: ++calls }), calls: () => calls };
}

describe('ParsedSpecs', () => {
  const object = () => ({ metadata: { uid: 'u1', resourceVersion: '10' }, spec: {} });

  test('one parse per version of an object: later calls get the same value', () => {
    const specs = new ParsedSpecs<{ n: number }>();
    const { parse, calls } = counted();
    const stored = object();
    const first = specs.get(stored, parse);
    expect(specs.get(stored, parse)).toBe(first);
    expect(calls()).toBe(1);
  });

  test('a new resourceVersion or uid (the object changed in place), or another extra, is parsed again', () => {
    const specs = new ParsedSpecs<{ n: number }>();
    const { parse, calls } = counted();
    const stored = object();
    specs.get(stored, parse);
    stored.metadata.resourceVersion = '11';
    expect(specs.get(stored, parse)).toEqual({ n: 2 });
    stored.metadata.uid = 'u2';
    expect(specs.get(stored, parse)).toEqual({ n: 3 });
    expect(specs.get(stored, parse, 'global-1')).toEqual({ n: 4 });
    expect(specs.get(stored, parse, 'global-1')).toEqual({ n: 4 });
    expect(specs.get(stored, parse, 'global-2')).toEqual({ n: 5 });
    expect(calls()).toBe(5);
  });

  test('keyed by the object itself: another object of the same version (an API read) is parsed on its own', () => {
    const specs = new ParsedSpecs<{ n: number }>();
    const { parse, calls } = counted();
    specs.get(object(), parse);
    specs.get(object(), parse);
    expect(calls()).toBe(2);
  });

  test('an object without uid or resourceVersion is never kept', () => {
    const specs = new ParsedSpecs<{ n: number }>();
    const { parse, calls } = counted();
    const bare = { metadata: {}, spec: {} };
    specs.get(bare, parse);
    specs.get(bare, parse);
    specs.get({ metadata: { uid: 'u1' } }, parse);
    expect(calls()).toBe(3);
  });

  test('a failed parse is not kept: the same error every time', () => {
    const specs = new ParsedSpecs<never>();
    let calls = 0;
    const stored = object();
    const parse = (): never => {
      calls += 1;
      throw new Error('spec.mount: expected the auth mount');
    };
    expect(() => specs.get(stored, parse)).toThrow('spec.mount: expected the auth mount');
    expect(() => specs.get(stored, parse)).toThrow('spec.mount: expected the auth mount');
    expect(calls).toBe(2);
  });
});
