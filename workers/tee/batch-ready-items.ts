/** The marker a pull loses the race to: the event loop reached its next turn first. */
const NEXT_TURN = Symbol('next turn');

/**
 * Groups an async iterator's items by readiness: each batch is one awaited item plus every further item that is
 * ready before the event loop's next turn (a setImmediate), in order. Items a producer makes at the same moment —
 * a stream's role chunk with its first token, or the finish, usage and end of a generation — then leave as one batch,
 * while an item that needs more work (the next model step, a message from another thread that has not arrived)
 * closes the batch and waits for the next one; no item is ever held back for a later one.
 *
 * Why: each batch becomes one sealed event, and every event costs a seal, a signature, a verification and a write on
 * every hop (tee/PROTOCOL.md §10). Grouping by readiness cuts those costs without delaying anything.
 *
 * A failure after items were collected still delivers them: the batch is yielded and the failure is thrown by the
 * next `next()`. Stopping early waits for a pull in flight to settle, then returns the source.
 * @example for await (const chunks of batchReadyItems(host.stream(...)[Symbol.asyncIterator]())) seal(chunks);
 */
export async function* batchReadyItems<T>(source: AsyncIterator<T>): AsyncGenerator<T[], void, undefined> {
  // A pull that lost the race to the next turn; the next batch starts with it.
  let pending: Promise<IteratorResult<T>> | undefined;
  let finished = false;
  try {
    for (;;) {
      const first = await (pending ?? source.next());
      pending = undefined;
      if (first.done) {
        finished = true;
        return;
      }
      const batch = [first.value];
      for (;;) {
        const pull = source.next();
        let settled: IteratorResult<T> | typeof NEXT_TURN;
        try {
          settled = await nextTurnOr(pull);
        } catch {
          pending = pull; // rethrown by the next next(), after this batch
          break;
        }
        if (settled === NEXT_TURN) {
          pending = pull;
          break;
        }
        if (settled.done) {
          finished = true;
          break;
        }
        batch.push(settled.value);
      }
      yield batch;
      if (finished) return;
    }
  } finally {
    if (!finished) {
      if (pending) await pending.catch(() => undefined);
      await source.return?.(undefined);
    }
  }
}

function nextTurnOr<R>(pull: Promise<R>): Promise<R | typeof NEXT_TURN> {
  let immediate: NodeJS.Immediate | undefined;
  const turn = new Promise<typeof NEXT_TURN>((resolve) => (immediate = setImmediate(resolve, NEXT_TURN)));
  // A pull that wins still leaves its immediate queued: clear it, it would only resolve a promise nobody reads.
  return Promise.race([pull, turn]).finally(() => clearImmediate(immediate));
}
