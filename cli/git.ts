/** Git provenance for the manifest: the commit and branch the migrations came from, when there is a repository. */
import { execFileSync } from "node:child_process";
import type { GitProvenance } from "../shared/manifest.ts";

function git(dir: string, args: string[]): string | null {
  try {
    return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null;
  }
}

export function gitProvenance(dir: string): GitProvenance | null {
  const commit = git(dir, ["rev-parse", "HEAD"]);
  if (!commit) return null;
  const branch = git(dir, ["rev-parse", "--abbrev-ref", "HEAD"]);
  // Detached checkouts (CI) report HEAD; CI usually says which branch it built.
  const ciBranch = process.env.GITHUB_HEAD_REF || process.env.GITHUB_REF_NAME || process.env.CI_COMMIT_REF_NAME || null;
  return { commit, branch: branch && branch !== "HEAD" ? branch : ciBranch };
}

/**
 * How a printed command renames a migration file: `git mv` for a file git tracks (the rename is
 * staged), `mv` for one it does not (a new file of an open pull request, or no git repository).
 */
export function gitFileMove(dir: string): (path: string) => "git mv" | "mv" {
  const tracked = new Set((git(dir, ["ls-files", "--full-name", "-z", "--", "."]) ?? "").split("\0").filter(Boolean).map((p) => p.slice(p.lastIndexOf("/") + 1)));
  return (path) => (tracked.has(path.slice(path.lastIndexOf("/") + 1)) ? "git mv" : "mv");
}
