/** Writing a file that must not exist yet, and quoting a word for a POSIX shell: shared by `fetch`, `repair` and `mcp`. */
import { closeSync, constants, openSync, writeSync } from "node:fs";

/**
 * Creates a file that does not exist yet and writes it; never overwrites, never follows a symlink
 * (a dangling one included: O_EXCL refuses any existing path). Returns why it
 * refused, or null when written.
 *
 * @example writeNewFile("supabase/migrations/1_a.sql", "select 1;\n") // null
 */
export function writeNewFile(path: string, text: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EEXIST" || code === "ELOOP") return `${path} already exists (a file or a symlink); fetch never overwrites`;
    if (code === "ENAMETOOLONG") return "its file name is too long for this file system";
    return `cannot create ${path} (${code ?? "error"})`;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return null;
}

/**
 * One argument for a POSIX shell: bare when it is plainly safe, else single-quoted.
 *
 * @example shellArg("ran by hand") // "'ran by hand'"
 * @example shellArg("sha256:ab12") // "sha256:ab12"
 */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
