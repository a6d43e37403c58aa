/**
 * The DDL ledger's entries, as the pure core sees them: classification, grouping
 * by object for the report, and one-line descriptions every format shares.
 * The SQL side is supabase/migrations/*_drift_guard_ledger.sql; reading is db/ledger.ts.
 */
import { visible } from "./report_formats/text_escape.ts";
import type { Problem, UntrackedChange } from "./types.ts";
import { DriftGuardError } from "./types.ts";

/**
 * tracked: its transaction wrote a history row (db push). untracked: no migration recorded it.
 * linked: untracked, then a drift-guard repair marked the migration that creates it applied.
 * acknowledged: untracked, reviewed with `ledger ack`.
 */
export type LedgerStatus = "tracked" | "untracked" | "linked" | "acknowledged";

export interface LedgerEntry {
  id: string;
  recorded_at: string;
  txid: string;
  event: "ddl_command_end" | "sql_drop";
  command_tag: string;
  object_type: string | null;
  object_identity: string | null;
  schema_name: string | null;
  session_user: string;
  current_user: string;
  jwt_sub: string | null;
  jwt_role: string | null;
  application_name: string | null;
  client_addr: string | null;
  statement: string | null;
  statement_length: number | null;
  statement_hash: string | null;
  status: LedgerStatus;
  tracked_by: string[];
  linked_version: string | null;
  linked_audit_id: string | null;
  acked_audit_id: string | null;
  alerted_at: string | null;
  /** Which of the identity fields the session set itself, never proof: see {@link claimedFields}. */
  claimed: ClaimedField[];
}

/**
 * Identity fields any session sets for itself: `application_name` (a startup parameter or
 * `set application_name`) and `jwt` (`request.jwt.claims`: jwt_sub, jwt_role).
 */
export type ClaimedField = "application_name" | "jwt";

/**
 * The identity fields of an entry that are claimed by the client, in JSON's `claimed`.
 * session_user, current_user and client_addr are the server's and never listed.
 *
 * @example
 * claimedFields({ application_name: "supabase db push", jwt_sub: null, jwt_role: "service_role" }) // ["application_name", "jwt"]
 */
export function claimedFields(e: Pick<LedgerEntry, "application_name" | "jwt_sub" | "jwt_role">): ClaimedField[] {
  const claimed: ClaimedField[] = [];
  if (e.application_name) claimed.push("application_name");
  if (e.jwt_sub || e.jwt_role) claimed.push("jwt");
  return claimed;
}

/** " via psql (claimed by the client)", or "" without an application name. */
export function describeApplication(applicationName: string | null): string {
  return applicationName ? ` via ${applicationName} (claimed by the client)` : "";
}

/** What `ledger --status` accepts. */
export const LEDGER_FILTERS = ["all", "tracked", "untracked", "linked", "acknowledged", "unresolved"] as const;
export type LedgerFilter = typeof LEDGER_FILTERS[number];

/** Entries that are drift: untracked and neither linked by a repair nor acknowledged. */
export const isUnresolved = (e: Pick<LedgerEntry, "status">): boolean => e.status === "untracked";

/** "created", "altered", "dropped", "granted"…: the verb of a command tag, for sentences. */
export function commandVerb(tag: string): string {
  const first = tag.split(" ")[0].toUpperCase();
  const verbs: Record<string, string> = {
    CREATE: "created", ALTER: "altered", DROP: "dropped", GRANT: "granted", REVOKE: "revoked", COMMENT: "commented",
    SECURITY: "labelled", REFRESH: "refreshed", IMPORT: "imported", REINDEX: "reindexed",
  };
  return verbs[first] ?? tag.toLowerCase();
}

/** The object an entry is about, for grouping and display: identity when Postgres gives one, else the statement's hash. */
export function objectKey(e: Pick<LedgerEntry, "object_type" | "object_identity" | "command_tag" | "statement_hash">): string {
  if (e.object_identity) return `${e.object_type ?? "object"} ${e.object_identity}`;
  return `${e.command_tag.toLowerCase()} ${e.object_type ?? ""} (statement ${String(e.statement_hash ?? "").slice(7, 19)})`.replace(/\s+/g, " ");
}

/**
 * Who ran a change, as the session showed it. The login role and the address are the
 * server's own. The application name ("via …") and the JWT claims are whatever the session
 * set (any session may set `application_name` and `request.jwt.claims`): both read as
 * claimed, and docs/ledger.md says so.
 *
 * @example
 * describeWho({ session_user: "postgres", current_user: "postgres", application_name: "psql",
 *               client_addr: "10.0.0.5", jwt_sub: "u1", jwt_role: "service_role" })
 * // "postgres via psql (claimed by the client) from 10.0.0.5 (claimed, unverified: JWT role service_role, sub u1)"
 */
export function describeWho(e: Pick<LedgerEntry, "session_user" | "current_user" | "application_name" | "client_addr" | "jwt_sub" | "jwt_role">): string {
  const role = e.current_user !== e.session_user ? `${e.session_user} as ${e.current_user}` : e.session_user;
  const via = describeApplication(e.application_name);
  const from = e.client_addr ? ` from ${e.client_addr}` : " from a local socket";
  const claims = [e.jwt_role ? `role ${e.jwt_role}` : "", e.jwt_sub ? `sub ${e.jwt_sub}` : ""].filter(Boolean).join(", ");
  const jwt = claims ? ` (claimed, unverified: JWT ${claims})` : "";
  return `${role}${via}${from}${jwt}`;
}

/** How full the ledger is against its retention (drift_guard.ledger_settings), as db/ledger.ts counts it. */
export interface LedgerRetention {
  /** Every entry the ledger holds; counted only when some are kept past retention, else null. */
  entries: number | null;
  retention_rows: number;
  retention_days: number;
  /** Untracked, unacknowledged, unlinked entries past the retention, which pruning never drops. */
  kept_past_retention: number;
}

/**
 * The report's warning when the ledger grows past its retention because nobody reviewed its
 * untracked entries (pruning never drops one, so a flood of DDL cannot erase a real change),
 * or null when it is within its retention.
 *
 * @example
 * ledgerRetentionProblem({ entries: 120000, retention_rows: 100000, retention_days: 90, kept_past_retention: 20000 })
 * // { level: "warning", file: "", message: "the DDL ledger keeps 20000 untracked, unacknowledged entries past its retention …" }
 */
export function ledgerRetentionProblem(r: LedgerRetention): Problem | null {
  if (r.kept_past_retention <= 0) return null;
  return {
    level: "warning",
    file: "",
    message: `the DDL ledger keeps ${r.kept_past_retention} untracked, unacknowledged entries past its retention ` +
      `(retention_rows ${r.retention_rows}, retention_days ${r.retention_days}${r.entries === null ? "" : `; ${r.entries} entries in all`}): pruning never drops one, so the ledger grows. ` +
      "Review them (drift-guard ledger --status untracked) and acknowledge them (drift-guard ledger ack) or link them by a repair, so that retention may drop them",
  };
}

/** What a statement reads as below repair scope (as the audit log's e-mail and host do). */
export const HIDDEN_FROM_SCOPE = "(hidden from this scope)";

/**
 * Ledger entries without their statement text: a statement may carry a secret (a password in
 * `create user mapping … options`, a key in a literal). The hash stays, to tell entries apart.
 *
 * @example hideEntryStatements(entries)[0].statement // "(hidden from this scope)"
 */
export function hideEntryStatements<T extends { statement: string | null }>(entries: readonly T[]): T[] {
  return entries.map((e) => (e.statement === null ? e : { ...e, statement: HIDDEN_FROM_SCOPE }));
}

/**
 * The report's `untracked_changes` without statement text, for every reader below repair
 * scope and for webhook alerts.
 *
 * @example hideUntrackedStatements(report.untracked_changes)[0].changes[0].statement // "(hidden from this scope)"
 */
export function hideUntrackedStatements(groups: readonly UntrackedChange[]): UntrackedChange[] {
  return groups.map((g) => ({ ...g, changes: hideEntryStatements(g.changes) }));
}

/** "2025-09-03 14:02 UTC". */
export function shortTime(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * One sentence per entry, the evidence a person reads:
 * "table public.automation_rules: created 2025-09-03 14:02 UTC by postgres via psql (claimed by the client) from …, untracked; linked to 004 by repair <id>".
 */
export function describeEntry(e: LedgerEntry): string {
  const head = `${objectKey(e)}: ${commandVerb(e.command_tag)} ${shortTime(e.recorded_at)} by ${describeWho(e)}`;
  switch (e.status) {
    case "tracked":
      return `${head}, tracked by migration ${e.tracked_by.join(", ")}`;
    case "linked":
      return `${head}, untracked; ${e.linked_version} creates it; marked applied by repair ${e.linked_audit_id}`;
    case "acknowledged":
      return `${head}, untracked; acknowledged (audit ${e.acked_audit_id})`;
    default:
      return `${head}, untracked`;
  }
}

/**
 * Unresolved entries grouped by object, oldest first, for the report's `untracked_changes`.
 *
 * @example
 * groupUntracked(entries)[0] // { object: "table public.t", changes: [{ id: "7", … }], first_at, last_at, … }
 */
export function groupUntracked(entries: readonly LedgerEntry[]): UntrackedChange[] {
  const groups = new Map<string, UntrackedChange>();
  const ordered = entries.filter(isUnresolved).sort((a, b) => Number(a.id) - Number(b.id));
  for (const e of ordered) {
    const key = objectKey(e);
    let g = groups.get(key);
    if (!g) {
      g = {
        object: key,
        object_type: e.object_type,
        object_identity: e.object_identity,
        schema: e.schema_name,
        first_at: e.recorded_at,
        last_at: e.recorded_at,
        who: [],
        changes: [],
      };
      groups.set(key, g);
    }
    g.last_at = e.recorded_at;
    const who = describeWho(e);
    if (!g.who.includes(who)) g.who.push(who);
    g.changes.push({
      id: e.id,
      at: e.recorded_at,
      command_tag: e.command_tag,
      session_user: e.session_user,
      current_user: e.current_user,
      application_name: e.application_name,
      client_addr: e.client_addr,
      jwt_sub: e.jwt_sub,
      jwt_role: e.jwt_role,
      claimed: claimedFields(e),
      statement: e.statement,
      statement_hash: e.statement_hash,
      alerted: e.alerted_at !== null,
    });
  }
  return [...groups.values()];
}

/** Every change id in the groups, for `ledger ack --id …`. */
export function untrackedIds(groups: readonly UntrackedChange[]): string[] {
  return groups.flatMap((g) => g.changes.map((c) => c.id));
}

/** A statement on one line, shortened for a table or a sentence. */
export function statementPreview(s: string | null, max = 120): string {
  if (!s) return "";
  const flat = visible(s.replace(/\s+/g, " ").trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * `--since` / `?since=`: an ISO date or time, or a duration back from `now` ("90m", "24h", "7d").
 *
 * @example
 * parseSince("7d", new Date("2025-10-08T00:00:00Z")) // 2025-10-01T00:00:00.000Z
 */
export function parseSince(value: string, now: Date = new Date(), flag = "--since"): Date {
  const v = value.trim();
  const rel = /^([0-9]{1,6})([mhd])$/.exec(v);
  if (rel) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as "m" | "h" | "d"];
    return new Date(now.getTime() - Number(rel[1]) * unit);
  }
  const d = /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9:]+)?)?$/.test(v) ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw new DriftGuardError("bad_input", `${flag} must be an ISO date or time (2025-09-03, 2025-09-03T14:02Z) or a duration like 90m, 24h, 7d`);
  }
  return d;
}
