import { VeilError } from '../errors';

/**
 * Bounds the key uploads in progress: at most `max` at once, and at most `perCaller` for one caller, so neither a
 * flood of slow uploads nor one client opening many can hold every slot. Refusals are `overloaded` (retryable).
 */
export class UploadSlots {
  private inUse = 0;
  private readonly byCaller = new Map<string, number>();

  constructor(private readonly max: number, private readonly perCaller: number) {}

  /** @returns the release function (idempotent). @throws {VeilError} `overloaded`. */
  acquire(caller: string): () => void {
    if (this.inUse >= this.max) {
      throw new VeilError('overloaded', `the gateway is receiving ${this.max} key uploads already; retry with backoff`);
    }
    const mine = this.byCaller.get(caller) ?? 0;
    if (mine >= this.perCaller) {
      throw new VeilError('overloaded', `at most ${this.perCaller} key uploads per caller at once; wait for yours to finish`);
    }
    this.inUse++;
    this.byCaller.set(caller, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse--;
      const left = (this.byCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.byCaller.set(caller, left);
      else this.byCaller.delete(caller);
    };
  }

  get active(): number {
    return this.inUse;
  }
}
