export type StopMatcher = {
  /**
   * Adds newly decoded text. Returns the text that is safe to emit now (nothing that could still turn out to be
   * the start of a stop sequence) and whether a stop sequence was completed (its text and anything after it are
   * never emitted, as OpenAI does).
   */
  push(text: string): { emit: string; stopped: boolean };
  /** At the end of generation: whatever was held back because it might have begun a stop sequence. */
  flush(): string;
};

/** Detects OpenAI `stop` sequences in a stream of text whose chunk boundaries fall anywhere. */
export function createStopMatcher(stops: readonly string[]): StopMatcher {
  const sequences = stops.filter((s) => s.length > 0);
  const longest = sequences.reduce((m, s) => Math.max(m, s.length), 0);
  let held = '';
  return {
    push(text) {
      if (sequences.length === 0) return { emit: text, stopped: false };
      held += text;
      let cut = -1;
      for (const s of sequences) {
        const at = held.indexOf(s);
        if (at !== -1 && (cut === -1 || at < cut)) cut = at;
      }
      if (cut !== -1) {
        const emit = held.slice(0, cut);
        held = '';
        return { emit, stopped: true };
      }
      // Keep the longest suffix that is a proper prefix of some stop sequence; emit the rest.
      let keep = 0;
      for (let k = Math.min(longest - 1, held.length); k > 0; k--) {
        const tail = held.slice(held.length - k);
        if (sequences.some((s) => s.startsWith(tail))) {
          keep = k;
          break;
        }
      }
      const emit = held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
      return { emit, stopped: false };
    },
    flush() {
      const rest = held;
      held = '';
      return rest;
    },
  };
}
