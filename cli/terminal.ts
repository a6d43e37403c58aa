/** Terminal manners: colour only on a TTY, and never when NO_COLOR is set. */
import { PLAIN, type TextStyle } from "../shared/report_formats/text.ts";

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

/** The SGR style for a terminal: bold, red, green, yellow, dim, cyan. */
export const ANSI: TextStyle = { bold: sgr(1, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22), cyan: sgr(36, 39) };

/**
 * Colours for `stream`, or PLAIN off a terminal or under NO_COLOR.
 * @example terminalStyle(deps.stdout, deps.env).red("drift")
 */
export function terminalStyle(stream: { isTTY?: boolean } = process.stdout, env: Readonly<Record<string, string | undefined>> = process.env): TextStyle {
  if (!stream.isTTY || env.NO_COLOR) return PLAIN;
  return ANSI;
}
