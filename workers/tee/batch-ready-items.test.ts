import { batchReadyItems } from './batch-ready-items';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** A promise the test opens when it chooses: timers would race the batcher's turn on a loaded machine. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function collect<T>(batches: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const b of batches) out.push(b);
  return out;
}

describe('batchReadyItems', () => {
  test('items ready at the same moment form one batch; an item that needs more work starts the next', async () => {
    const step = gate();
    const message = gate();
    async function* source() {
      yield 'role';
      yield 'first token';
      await step.promise; // a model step
      yield 'second token';
      await message.promise; // a message from another thread that has not arrived yet
      yield 'finish';
      yield 'usage';
    }
    const batches = batchReadyItems(source());
    expect(await batches.next()).toEqual({ done: false, value: ['role', 'first token'] });
    step.open();
    expect(await batches.next()).toEqual({ done: false, value: ['second token'] });
    message.open();
    expect(await batches.next()).toEqual({ done: false, value: ['finish', 'usage'] });
    expect(await batches.next()).toEqual({ done: true, value: undefined });
  });

  test('nothing is held back: a batch leaves as soon as the next item is not ready', async () => {
    const step = gate();
    async function* source() {
      yield 1;
      await step.promise;
      yield 2;
    }
    const batches = batchReadyItems(source());
    expect(await batches.next()).toEqual({ done: false, value: [1] }); // while 2 is still waiting on the gate
    step.open();
    expect(await batches.next()).toEqual({ done: false, value: [2] });
    expect(await batches.next()).toEqual({ done: true, value: undefined });
  });

  test('an empty source gives no batch', async () => {
    async function* source(): AsyncGenerator<number> {}
    expect(await collect(batchReadyItems(source()))).toEqual([]);
  });

  test('a failure before any item rejects the first next()', async () => {
    async function* source(): AsyncGenerator<number> {
      throw new Error('refused');
    }
    await expect(batchReadyItems(source()).next()).rejects.toThrow('refused');
  });

  test('items ready before a failure are delivered, then the failure is thrown', async () => {
    async function* source() {
      yield 'a';
      yield 'b';
      throw new Error('ORT failed');
    }
    const batches = batchReadyItems(source());
    expect(await batches.next()).toEqual({ done: false, value: ['a', 'b'] });
    await expect(batches.next()).rejects.toThrow('ORT failed');
  });

  test('stopping early closes the source once the pull in flight settles', async () => {
    let closed = false;
    const step = gate();
    async function* source() {
      try {
        yield 0;
        await step.promise;
        yield 1;
      } finally {
        closed = true;
      }
    }
    const batches = batchReadyItems(source());
    expect(await batches.next()).toEqual({ done: false, value: [0] });
    const stopping = batches.return(undefined);
    await nextTurn();
    expect(closed).toBe(false); // the pull for 1 is still in flight
    step.open();
    await stopping;
    expect(closed).toBe(true);
  });
});
