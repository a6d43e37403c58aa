/** Terminal manners: colour only on a TTY, and never when NO_COLOR is set. */
import process from "node:process";
import { PLAIN, type TextStyle } from "../shared/report_formats/text.ts";

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function terminalStyle(stream: { isTTY?: boolean } = process.stdout): TextStyle {
  if (!stream.isTTY || process.env.NO_COLOR) return PLAIN;
  return { bold: sgr(1, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22) };
}
