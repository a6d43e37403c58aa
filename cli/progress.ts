/**
 * Progress for long work (thousands of files, fetch), on stderr and only on a
 * terminal, so pipes, CI logs and --format json stay clean.
 */
export interface Progress {
  tick(done: number): void;
  done(): void;
}

const SILENT: Progress = { tick() {}, done() {} };

/**
 * A progress line on `stream` (deps.stderr) for `total` items, silent off a terminal or under 500 items.
 * @example const bar = progress("fetching", 900, deps.stderr); bar.tick(10); bar.done();
 */
export function progress(label: string, total: number, stream: { isTTY?: boolean; write(s: string): unknown }): Progress {
  if (!stream.isTTY || total < 500) return SILENT;
  let last = -1;
  return {
    tick(done) {
      const pct = Math.floor((done / total) * 100);
      if (pct === last) return;
      last = pct;
      stream.write(`\r${label} ${done}/${total} (${pct}%)`);
    },
    done() {
      stream.write(`\r\x1b[2K`);
    },
  };
}
