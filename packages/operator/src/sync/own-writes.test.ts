import { OwnWrites } from './own-writes.ts';

const data = (password: string) => ({ password: Buffer.from(password).toString('base64') });
const secret = (namespace: string, name: string, body: Record<string, string>) => ({
  metadata: { namespace, name },
  data: body,
});

describe('OwnWrites', () => {
  const writes = new OwnWrites(Buffer.alloc(32, 7));

  test('the data we wrote is recognised, an edit of it is not', () => {
    writes.record('app', 'db', data('first'));
    expect(writes.isOwn(secret('app', 'db', data('first')))).toBe(true);
    expect(writes.isOwn(secret('app', 'db', data('tampered')))).toBe(false);
  });

  test('only the last write counts, per Secret', () => {
    writes.record('app', 'db', data('second'));
    expect(writes.isOwn(secret('app', 'db', data('first')))).toBe(false);
    expect(writes.isOwn(secret('app', 'db', data('second')))).toBe(true);
    expect(writes.isOwn(secret('other', 'db', data('second')))).toBe(false);
  });

  test('a forgotten Secret is no longer ours', () => {
    writes.forget('app', 'db');
    expect(writes.isOwn(secret('app', 'db', data('second')))).toBe(false);
    expect(writes.size).toBe(0);
  });
});
