/** A CliFs whose relative paths resolve against a working directory other than the process's. */
import { isAbsolute, resolve } from "node:path";
import type { CliFs } from "./deps.ts";

const PATH_ARGS: Record<keyof CliFs, number> = {
  readFile: 1, writeFile: 1, readdir: 1, stat: 1, lstat: 1, mkdir: 1, rm: 1, access: 1, mkdtemp: 1, realpath: 1, rename: 2,
};

/**
 * `fs` with every path argument resolved against `cwd`, so messages can keep the paths the user typed.
 * @example await rootedFs(deps.fs, "/tmp/project").readFile("supabase/config.toml", "utf8")
 */
export function rootedFs(fs: CliFs, cwd: string): CliFs {
  const at = (p: unknown) => (typeof p === "string" && !isAbsolute(p) ? resolve(cwd, p) : p);
  const wrapped: Record<string, unknown> = {};
  for (const [name, count] of Object.entries(PATH_ARGS)) {
    const method = (fs as unknown as Record<string, (...args: unknown[]) => unknown>)[name].bind(fs);
    wrapped[name] = (...args: unknown[]) => method(...args.map((a, i) => (i < count ? at(a) : a)));
  }
  return wrapped as unknown as CliFs;
}
