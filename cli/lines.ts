/** Writing lines that may carry strings from the database (labels, names, reasons) to a terminal. */
import { visible } from "../shared/report_formats/text_escape.ts";
import type { OutputStream } from "./deps.ts";

/**
 * A writer of escaped lines: shown, never obeyed by the terminal.
 * @example const write = lineWriter(deps.stdout); write(`revoked token "${label}"`)
 */
export const lineWriter = (out: OutputStream) => (line = "") => out.write(visible(line) + "\n");

/** JSON escapes control characters itself, and its own newlines are layout. */
export const writeJson = (out: OutputStream, value: unknown) => out.write(JSON.stringify(value, null, 2) + "\n");
