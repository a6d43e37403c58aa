/**
 * The webhook alert for untracked schema changes: a Slack-compatible body (Slack,
 * Mattermost and Discord's /slack endpoint read `text`), with the structured changes
 * alongside for other receivers, and the string its HMAC signature covers.
 */
import { hideUntrackedStatements } from "./ledger.ts";
import { visible } from "./report_formats/text_escape.ts";
import type { UntrackedChange } from "./types.ts";
import { untrackedSummary } from "./report_formats/ledger.ts";

export interface AlertPayload {
  text: string;
  untracked_changes: UntrackedChange[];
}

/**
 * The changes `keep` accepts, in their groups; groups left empty are dropped.
 *
 * @example selectChanges(report.untracked_changes, (c) => !c.alerted) // what no earlier alert covered
 */
export function selectChanges(
  groups: readonly UntrackedChange[],
  keep: (change: UntrackedChange["changes"][number]) => boolean,
): UntrackedChange[] {
  return groups
    .map((g) => ({ ...g, changes: g.changes.filter(keep) }))
    .filter((g) => g.changes.length > 0);
}

/**
 * @example
 * alertPayload(selectChanges(report.untracked_changes, (c) => !c.alerted), "my-project").text
 * // "drift-guard: 1 schema change(s) ran outside any migration in my-project …"
 * // The optional `link` (where to review, e.g. the dashboard's SQL editor) ends the text.
 */
export function alertPayload(groups: readonly UntrackedChange[], project = "the database", link?: string): AlertPayload {
  const count = groups.reduce((n, g) => n + g.changes.length, 0);
  // Slack mrkdwn: &, < and > are the only characters that must be escaped.
  const slack = (s: string) => visible(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const lines = [`*drift-guard*: ${count} schema change(s) ran outside any migration in ${slack(project)}`];
  // The object, who and when; never the statement, which may carry a secret and which the
  // webhook's receivers (a Slack channel) need not see. `drift-guard ledger` shows it to the owner.
  for (const g of groups.slice(0, 20)) {
    lines.push(`• ${slack(untrackedSummary(g))}`);
  }
  if (groups.length > 20) lines.push(`… and ${groups.length - 20} more object(s)`);
  lines.push(link ? `Review: ${slack(link)}` : "Review with `drift-guard ledger --status untracked`, then `drift-guard ledger ack --id … --reason …`.");
  return { text: lines.join("\n"), untracked_changes: hideUntrackedStatements(groups) };
}

/** What the signature covers: `<unix seconds>.<body>`, so that a captured request cannot be replayed later. */
export const signedContent = (timestamp: number, body: string): string => `${timestamp}.${body}`;
