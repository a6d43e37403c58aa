/**
 * `check --replay` without a target: the replay from zero alone, as a preview branch
 * builds the repository (docs/whole-history.md). The summary quotes file names and
 * Postgres's errors: each format escapes it.
 */
import type { ReplayStatus } from "../types.ts";
import { prose } from "./markdown_escape.ts";
import { visible } from "./text_escape.ts";
import { escapeXml, xmlAttr } from "./xml_escape.ts";

export type ReplayFormat = "text" | "json" | "markdown" | "junit";

/**
 * The replay's verdict in `format`.
 * @example renderReplay({ status: "ok", migrations: 3, summary: "ok (3 migrations replay from zero on a fresh project)" }, "text")
 * // "replay: ok (3 migrations replay from zero on a fresh project)\n"
 */
export function renderReplay(replay: ReplayStatus, format: ReplayFormat): string {
  const failed = replay.status === "failed";
  switch (format) {
    case "json":
      return JSON.stringify({ status: failed ? "failed" : "ok", replay }, null, 2) + "\n";
    case "markdown":
      return `## ${failed ? "❌ Migrations fail to replay from zero" : "✅ Migrations replay from zero"}\n\n${prose(`replay: ${replay.summary}`)}\n\nAs a preview branch or \`supabase db reset\` builds the repository: every file in order, on a fresh project.\n`;
    case "junit": {
      const body = failed ? `\n      <failure type="replay" message="${xmlAttr(replay.summary)}">${escapeXml(replay.summary)}</failure>\n    ` : "";
      const file = replay.file ? ` file="${xmlAttr(replay.file)}"` : "";
      return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="drift-guard" tests="1" failures="${failed ? 1 : 0}">\n  <testsuite name="replay from zero" tests="1" failures="${failed ? 1 : 0}">\n    <testcase name="replay" classname="drift-guard.replay"${file}>${body}</testcase>\n  </testsuite>\n</testsuites>\n`;
    }
    default:
      return `replay: ${visible(replay.summary)}\n`;
  }
}
