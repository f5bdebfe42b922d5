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
