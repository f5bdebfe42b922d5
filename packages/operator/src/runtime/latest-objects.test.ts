import { LatestObjects } from './latest-objects.ts';

const at = (resourceVersion: string, value: string) => ({ metadata: { resourceVersion }, value });

describe('LatestObjects', () => {
  test('keeps the newest version whichever way it came', () => {
    const objects = new LatestObjects<ReturnType<typeof at>>();
    objects.observe('a', at('10', 'informer'));
    objects.written('a', at('12', 'our write'));
    // The informer delivers the version before our write late: ignored.
    objects.observe('a', at('11', 'late event'));
    expect(objects.get('a')?.value).toBe('our write');
    objects.observe('a', at('12', 'same version from the informer'));
    objects.observe('a', at('100', 'newer'));
    expect(objects.get('a')?.value).toBe('newer');
  });

  test('a write answer never brings back a deleted object', () => {
    const objects = new LatestObjects<ReturnType<typeof at>>();
    objects.observe('a', at('1', 'x'));
    objects.delete('a');
    objects.written('a', at('2', 'y'));
    expect(objects.get('a')).toBeUndefined();
  });

  test('get returns a copy', () => {
    const objects = new LatestObjects<ReturnType<typeof at>>();
    objects.observe('a', at('1', 'x'));
    const copy = objects.get('a');
    expect(copy).toBeDefined();
    if (copy) copy.value = 'changed';
    expect(objects.get('a')?.value).toBe('x');
  });
});

describe('LatestObjects keeps one copy per version', () => {
  test('an answer of the version the informer already delivered leaves the informer object', () => {
    const objects = new LatestObjects<ReturnType<typeof at>>();
    const fromInformer = at('12', 'informer');
    objects.observe('a', at('10', 'old'));
    // The watch event of our write can arrive before the write's own answer.
    objects.observe('a', fromInformer);
    objects.written('a', at('12', 'answer'));
    expect(objects.peek('a')).toBe(fromInformer);
  });

  test('a newer answer is kept without managedFields', () => {
    const objects = new LatestObjects<{ metadata: { resourceVersion: string; managedFields?: unknown[] } }>();
    objects.observe('a', { metadata: { resourceVersion: '1' } });
    objects.written('a', { metadata: { resourceVersion: '2', managedFields: [{ manager: 'x' }] } });
    expect(objects.peek('a')).toEqual({ metadata: { resourceVersion: '2' } });
  });
});
