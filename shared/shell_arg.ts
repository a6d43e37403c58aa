/**
 * One argument for a POSIX shell, as a printed command carries it: bare when it is plainly
 * safe, else single-quoted (a quote inside becomes '\'').
 *
 * @example shellArg("ran by hand") // "'ran by hand'"
 * @example shellArg("sha256:ab12") // "sha256:ab12"
 */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
