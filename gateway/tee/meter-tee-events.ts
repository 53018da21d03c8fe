import type { TeeStreamEvent } from '../../proto';
import { teeActualUsage, teeSignedUsage, type StreamCredit } from '../payments';

/** What a relay saw of a stream, for its log line: never a payload, only counts. */
export type RelayTally = { events: number; bytes: number };

/**
 * A node's sealed events as a relay may send them, the one metering rule of both gRPC stream relays (InferStream,
 * InferStreamPaid): an event is handed on only once the stream's credit covers the node's signed counts through it
 * (maybe after a pause for a top-up); the last one (it carries the signature) only after the stream's charge is
 * committed, so its receipt goes out first. An event counts as delivered when the relay asks for the next one, i.e.
 * after it was sent.
 */
export async function* meterTeeEvents(source: AsyncIterable<TeeStreamEvent>, credit: StreamCredit | undefined, tally: RelayTally): AsyncGenerator<TeeStreamEvent> {
  for await (const event of source) {
    tally.events++;
    tally.bytes += event.sealedEvent.byteLength;
    const usage = teeActualUsage(event.usage);
    const statement = teeSignedUsage(event.usage, tally.events);
    await credit?.cover(usage);
    if (event.signature && credit) {
      credit.delivered(usage, statement);
      await credit.finish();
    }
    yield event;
    credit?.delivered(usage, statement);
  }
}
