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

/** How a printed command renames a migration file: `git mv` inside a git work tree (the rename is staged), `mv` elsewhere. */
export function gitFileMove(dir: string): "git mv" | "mv" {
  return git(dir, ["rev-parse", "--is-inside-work-tree"]) === "true" ? "git mv" : "mv";
}
