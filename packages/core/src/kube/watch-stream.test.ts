import { WatchLineParser, WatchStreamError } from './watch-stream.ts';

const line = (event: unknown): string => `${JSON.stringify(event)}\n`;
const added = { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '10' } } };
const bookmark = { type: 'BOOKMARK', object: { kind: 'ConfigMap', metadata: { resourceVersion: '42' } } };
const gone = {
  type: 'ERROR',
  object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' },
};

test('an event cut across chunks anywhere is delivered once, when its line completes', () => {
  const body = Buffer.from(line(added) + line(bookmark));
  // Every split point of the two lines, including inside the newline's neighbourhood.
  for (let cut = 1; cut < body.length; cut += 1) {
    const parser = new WatchLineParser();
    const events = [...parser.push(body.subarray(0, cut)), ...parser.push(body.subarray(cut)), ...parser.end()];
    expect(events).toEqual([added, bookmark]);
  }
});

test('a multi-byte character cut between chunks is decoded whole', () => {
  const event = { type: 'MODIFIED', object: { metadata: { name: 'b' }, data: { note: 'héllo €' } } };
  const body = Buffer.from(line(event));
  const euro = body.indexOf(Buffer.from('€'));
  const parser = new WatchLineParser();
  expect(parser.push(body.subarray(0, euro + 1))).toEqual([]);
  expect(parser.push(body.subarray(euro + 1))).toEqual([event]);
});

test('BOOKMARK and ERROR 410 come out as events with their object (the informer acts on them)', () => {
  const parser = new WatchLineParser();
  const events = parser.push(Buffer.from(line(bookmark) + line(gone)));
  expect(events.map((event) => event.type)).toEqual(['BOOKMARK', 'ERROR']);
  expect(events[0]?.object).toEqual({ kind: 'ConfigMap', metadata: { resourceVersion: '42' } });
  expect(events[1]?.object.code).toBe(410);
  expect(events[1]?.object.reason).toBe('Expired');
});

test('several events in one chunk, blank lines and a last line without a newline', () => {
  const parser = new WatchLineParser();
  expect(parser.push(Buffer.from(`${line(added)}\n${line(bookmark)}${JSON.stringify(gone)}`))).toEqual([
    added,
    bookmark,
  ]);
  expect(parser.end()).toEqual([gone]);
  expect(parser.end()).toEqual([]);
});

test('a line that is not an event fails with an error that does not quote the line', () => {
  const secretish = '{"type":"ADDED","object":{"data":{"password":"c2VjcmV0"}}';
  expect(() => new WatchLineParser().push(Buffer.from(`${secretish}\n`))).toThrow(WatchStreamError);
  expect(() => new WatchLineParser().push(Buffer.from(`${secretish}\n`))).not.toThrow(/c2VjcmV0/);
  expect(() => new WatchLineParser().push(Buffer.from(line({ type: 'SOMETHING', object: {} })))).toThrow(
    /unknown type/,
  );
  expect(() => new WatchLineParser().push(Buffer.from(line({ type: 'ADDED' })))).toThrow(/no object/);
  // A body that stopped inside an event (a dropped connection) is an error, not a silent loss.
  const parser = new WatchLineParser();
  parser.push(Buffer.from(line(added).slice(0, 20)));
  expect(() => parser.end()).toThrow(WatchStreamError);
});
