import { createServerSentEventParser, readServerSentEvents, type ServerSentEvent } from './read-server-sent-events';

const bytes = (text: string) => new TextEncoder().encode(text);

async function parseAll(chunks: Uint8Array[]): Promise<ServerSentEvent[]> {
  async function* source() {
    for (const c of chunks) yield c;
  }
  const out: ServerSentEvent[] = [];
  for await (const e of readServerSentEvents(source())) out.push(e);
  return out;
}

/** Every way of cutting `text` into two chunks must parse the same as the whole. */
async function everySplit(text: string): Promise<ServerSentEvent[]> {
  const whole = await parseAll([bytes(text)]);
  const all = bytes(text);
  for (let i = 1; i < all.length; i++) expect(await parseAll([all.slice(0, i), all.slice(i)])).toEqual(whole);
  return whole;
}

describe('readServerSentEvents', () => {
  test('LF, CRLF and CR line ends, split anywhere (also inside a CRLF and inside a UTF-8 sequence)', async () => {
    const lf = await everySplit('event: sealed\ndata: {"e":"AQ=="}\n\ndata: é€\n\n');
    expect(lf).toEqual([{ event: 'sealed', data: '{"e":"AQ=="}', id: '' }, { event: 'message', data: 'é€', id: '' }]);
    expect(await everySplit('event: sealed\r\ndata: {"e":"AQ=="}\r\n\r\ndata: é€\r\n\r\n')).toEqual(lf);
    expect(await everySplit('event: sealed\rdata: {"e":"AQ=="}\r\rdata: é€\r\r')).toEqual(lf);
  });

  test('multi-line data joins with LF; comments, unknown fields and retry are ignored; one leading space only', async () => {
    const events = await everySplit(': keep-alive\nretry: 10\nfoo: bar\ndata:  two spaces\ndata\ndata:x\nid: 7\n\n');
    expect(events).toEqual([{ event: 'message', data: ' two spaces\n\nx', id: '7' }]);
  });

  test('an event without data is not dispatched, and the event type resets after each dispatch', async () => {
    expect(await parseAll([bytes('event: error\n\nevent: sealed\ndata: a\n\ndata: b\n\n')])).toEqual([
      { event: 'sealed', data: 'a', id: '' },
      { event: 'message', data: 'b', id: '' },
    ]);
  });

  test('a leading BOM is dropped; an event cut off by the end of the stream is discarded, never half-delivered', async () => {
    expect(await parseAll([new Uint8Array([0xef, 0xbb, 0xbf]), bytes('data: a\n\ndata: cut')])).toEqual([{ event: 'message', data: 'a', id: '' }]);
    expect(await parseAll([bytes('data: a\n')])).toEqual([]);
  });

  test('push returns events as soon as their blank line arrives', () => {
    const parser = createServerSentEventParser();
    expect(parser.push(bytes('data: a\n'))).toEqual([]);
    expect(parser.push(bytes('\n'))).toEqual([{ event: 'message', data: 'a', id: '' }]);
    expect(parser.end()).toEqual([]);
  });
});
