/** Terminal manners: progress and colour only on a terminal. */
import { describe, expect, it } from "vitest";
import { progress } from "../cli/progress.ts";
import { terminalStyle } from "../cli/terminal.ts";

describe("progress", () => {
  const sink = (isTTY: boolean) => {
    const out: string[] = [];
    return { out, stream: { isTTY, write: (s: string) => out.push(s) } };
  };
  it("reports on a terminal, and clears its line at the end", () => {
    const { out, stream } = sink(true);
    const bar = progress("reading", 1000, stream);
    for (let i = 1; i <= 1000; i++) bar.tick(i);
    bar.done();
    // One line per percent (0..100), then the clearing sequence.
    expect(out).toHaveLength(102);
    expect(out[100]).toBe("\rreading 1000/1000 (100%)");
    expect(out.at(-1)).toBe("\r\x1b[2K");
  });
  it("stays silent in pipes and for short work", () => {
    const pipe = sink(false);
    progress("reading", 5000, pipe.stream).tick(1);
    const short = sink(true);
    progress("reading", 10, short.stream).tick(1);
    expect([...pipe.out, ...short.out]).toEqual([]);
  });
});

describe("colour", () => {
  it("only on a TTY and never with NO_COLOR", () => {
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    expect(terminalStyle({ isTTY: true }).red("x")).toBe("\x1b[31mx\x1b[39m");
    expect(terminalStyle({ isTTY: false }).red("x")).toBe("x");
    process.env.NO_COLOR = "1";
    expect(terminalStyle({ isTTY: true }).red("x")).toBe("x");
    if (saved === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved;
  });
});
