/** One dispatched server-sent event (WHATWG HTML §9.2 "event stream interpretation"). */
export type ServerSentEvent = { event: string; data: string; id: string };

/**
 * Reads `text/event-stream` bytes into events, exactly as the WHATWG parsing rules say: UTF-8 with an optional
 * leading BOM; lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are
 * one line end); a blank line dispatches; `:` lines are comments; `field: value` loses one leading space; `data`
 * lines join with LF; an event with no data is not dispatched; an event still open at the end of the stream is
 * discarded (never half-delivered). SSE is framing, not security: every event the TEE client reads is then
 * opened and authenticated on its own.
 * @example for await (const e of readServerSentEvents(response.body)) if (e.event === 'sealed') …
 */
export async function* readServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const parser = createServerSentEventParser();
  for await (const chunk of body) yield* parser.push(chunk);
  yield* parser.end();
}

export type ServerSentEventParser = {
  /** Feeds bytes; returns the events they completed. */
  push(chunk: Uint8Array): ServerSentEvent[];
  /** The stream ended: flushes the decoder; an event without its blank line is discarded. */
  end(): ServerSentEvent[];
};

export function createServerSentEventParser(): ServerSentEventParser {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let pending = '';
  let skipLeadingLf = false;
  let eventType = '';
  let data: string[] = [];
  let lastId = '';

  const line = (text: string, out: ServerSentEvent[]) => {
    if (text === '') {
      if (data.length > 0) out.push({ event: eventType || 'message', data: data.join('\n'), id: lastId });
      data = [];
      eventType = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventType = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) lastId = value;
    // `retry` and unknown fields are ignored: this reader never reconnects.
  };

  const feed = (text: string): ServerSentEvent[] => {
    const out: ServerSentEvent[] = [];
    let input = text;
    if (skipLeadingLf && input.length > 0) {
      if (input[0] === '\n') input = input.slice(1);
      skipLeadingLf = false;
    }
    pending += input;
    let start = 0;
    for (let i = 0; i < pending.length; i++) {
      const c = pending[i];
      if (c !== '\n' && c !== '\r') continue;
      line(pending.slice(start, i), out);
      if (c === '\r') {
        if (i + 1 < pending.length) {
          if (pending[i + 1] === '\n') i++;
        } else {
          skipLeadingLf = true; // the LF of this CRLF may arrive with the next chunk
        }
      }
      start = i + 1;
    }
    pending = pending.slice(start);
    return out;
  };

  return {
    push: (chunk) => feed(decoder.decode(chunk, { stream: true })),
    end: () => {
      const out = feed(decoder.decode());
      pending = '';
      data = [];
      return out;
    },
  };
}
