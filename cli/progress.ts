/**
 * A one-line progress indicator for steps that take seconds. It draws on stderr only when stderr is a
 * terminal, so piped and `--json` output stay clean.
 */
export type Progress = {
  step(label: string): void;
  update(done: number, total: number): void;
  done(note?: string): void;
};

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const interactive = Boolean(stream.isTTY);
  let label = '';
  let started = 0;
  const draw = (text: string) => {
    if (interactive) stream.write(`\r\x1b[2K${text}`);
  };
  return {
    step(next) {
      label = next;
      started = performance.now();
      draw(`${label} ...`);
    },
    update(done, total) {
      const width = 24;
      const filled = total > 0 ? Math.round((done / total) * width) : 0;
      draw(`${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    done(note) {
      const ms = Math.round(performance.now() - started);
      if (interactive) stream.write(`\r\x1b[2K${label} done in ${ms} ms${note ? ` (${note})` : ''}\n`);
    },
  };
}
