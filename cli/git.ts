/** Git provenance for the manifest: the commit and branch the migrations came from, when there is a repository. */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import type { GitProvenance } from "../shared/manifest.ts";
import type { CliDeps } from "./deps.ts";

function git(dir: string, args: string[]): string | null {
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * The commit and branch of the repository holding `dir` (relative to `deps.cwd`), or null outside one.
 * @example gitProvenance("supabase/migrations", deps) // { commit: "3f2c…", branch: "main" }
 */
export function gitProvenance(dir: string, deps: Pick<CliDeps, "env" | "cwd">): GitProvenance | null {
  const abs = resolve(deps.cwd, dir);
  const commit = git(abs, ["rev-parse", "HEAD"]);
  if (!commit) return null;
  const branch = git(abs, ["rev-parse", "--abbrev-ref", "HEAD"]);
  // Detached checkouts (CI) report HEAD; CI usually says which branch it built.
  const ciBranch = deps.env.GITHUB_HEAD_REF || deps.env.GITHUB_REF_NAME || deps.env.CI_COMMIT_REF_NAME || null;
  return { commit, branch: branch && branch !== "HEAD" ? branch : ciBranch };
}

/**
 * How a printed command renames a migration file: `git mv` for a file git tracks (the rename is
 * staged), `mv` for one it does not (a new file of an open pull request, or no git repository).
 */
export function gitFileMove(dir: string, deps: Pick<CliDeps, "cwd">): (path: string) => "git mv" | "mv" {
  const tracked = new Set((git(resolve(deps.cwd, dir), ["ls-files", "--full-name", "-z", "--", "."]) ?? "").split("\0").filter(Boolean).map((p) => p.slice(p.lastIndexOf("/") + 1)));
  return (path) => (tracked.has(path.slice(path.lastIndexOf("/") + 1)) ? "git mv" : "mv");
}
