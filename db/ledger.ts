/**
 * The DDL ledger (supabase/migrations/*_drift_guard_ledger.sql), read and written the
 * same way by the CLI (`ledger`, `ledger ack`, `check`, `repair`) and the function
 * (GET /ledger, POST /ledger/ack, /status, /drift).
 */
import { extractCreatedObjects } from "../shared/evidence.ts";
import { claimedFields, groupUntracked, type LedgerEntry, type LedgerFilter, type LedgerRetention, ledgerRetentionProblem } from "../shared/ledger.ts";
import type { LocalMigration, Problem, UntrackedChange } from "../shared/types.ts";
import { DriftGuardError } from "../shared/types.ts";
import type { Sql } from "./connect.ts";

export interface LedgerQuery {
  since?: Date;
  until?: Date;
  /** Substring of the object identity (case-insensitive), e.g. "automation_rules". */
  object?: string;
  status?: LedgerFilter;
  limit?: number;
}

export interface LedgerState {
  active: boolean;
  history_trigger: boolean;
  since: string | null;
  errors: number;
  last_error_at: string | null;
}

/** True when this database has the ledger's tables (drift_guard 20251202000400 or later). */
export async function ledgerInstalled(sql: Sql): Promise<boolean> {
  const [row] = await sql.unsafe<{ ok: boolean }[]>(
    "select pg_catalog.to_regclass('drift_guard.ddl_ledger') is not null and pg_catalog.to_regclass('drift_guard.history_writes') is not null as ok",
  );
  return row?.ok === true;
}

/**
 * Changes whenever the ledger gains an entry, an alert is delivered, or the audit log
 * gains a row (an acknowledgement, a repair that links entries, an undo): with the history's
 * fingerprint, the key under which the function reuses a /status report. Every part is an
 * index or one-row read, as it runs at every /status, however long the ledger.
 *
 * @example await ledgerFingerprint(sql) // "4711:3:2026-12-02 03:14:15.926+00"
 */
export async function ledgerFingerprint(sql: Sql): Promise<string> {
  if (!(await ledgerInstalled(sql))) return "no ledger";
  const [row] = await sql.unsafe<{ f: string }[]>(
    `select coalesce((select pg_catalog.max(l.id) from drift_guard.ddl_ledger l), 0)::text || ':' ||
            coalesce((select h.alerted_entries from drift_guard.ledger_health h where h.id), 0)::text || ':' ||
            coalesce((select pg_catalog.max(a.created_at) from drift_guard.audit_log a)::text, '') as f`,
  );
  return row.f;
}

/** Whether the event triggers are in place, since when, and how many errors they swallowed. */
export function ledgerState(sql: Sql): Promise<LedgerState> {
  return sql.unsafe<{ s: LedgerState }[]>("select drift_guard.ledger_status() as s").then(([row]) => ({ ...row.s, errors: Number(row.s.errors ?? 0) }));
}

/**
 * Ledger entries, oldest first, with their classification.
 *
 * @example
 * await readLedger(sql, { status: "unresolved", object: "automation_rules" })
 */
export async function readLedger(sql: Sql, query: LedgerQuery = {}): Promise<LedgerEntry[]> {
  const status = query.status ?? "all";
  const wanted = status === "unresolved" ? "untracked" : status;
  const [{ history }] = await sql.unsafe<{ history: boolean }[]>(
    "select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as history",
  );
  // A history write makes its transaction's entries tracked only while the row it wrote exists:
  // not when the same transaction deleted it again, nor once it was deleted since
  // (drift_guard.ledger_tracked_by says the same in SQL).
  const live = `w.op <> 'delete'
    and not exists (select 1 from drift_guard.history_writes d where d.txid = w.txid and d.version = w.version and d.op = 'delete' and d.id > w.id)
    and ${history ? "exists (select 1 from supabase_migrations.schema_migrations m where m.version = w.version)" : "false"}`;
  const rows = await sql.unsafe<Array<Omit<LedgerEntry, "recorded_at" | "alerted_at"> & { recorded_at: Date; alerted_at: Date | null }>>(
    // The classification by joins, and tracked_by only for the entries returned: on a full ledger
    // (100,000 entries) a subquery per entry was estimated so costly that Postgres compiled the
    // query with JIT, 0.9 s of 1 s.
    `select e.*, coalesce((select pg_catalog.array_agg(distinct w.version) from drift_guard.history_writes w
                           where w.txid = e.txid::bigint and ${live}), '{}'::text[]) as tracked_by
     from (
       select l.id::text as id, l.recorded_at, l.txid::text as txid, l.event, l.command_tag, l.object_type, l.object_identity,
              l.schema_name, l.session_user_name as session_user, l.current_user_name as current_user, l.jwt_sub, l.jwt_role,
              l.application_name, pg_catalog.host(l.client_addr) as client_addr, l.statement, l.statement_length,
              -- stored only for a truncated statement (the trigger leaves hashing to readers)
              coalesce(l.statement_hash, 'sha256:' || pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(l.statement, 'UTF8')), 'hex')) as statement_hash,
              -- tracked: its transaction wrote a history row that still exists; linked: by a repair not undone since;
              -- acknowledged; untracked otherwise
              case when t.txid is not null then 'tracked'
                   when l.linked_audit_id is not null and link.undone_by is null then 'linked'
                   when l.acked_audit_id is not null then 'acknowledged'
                   else 'untracked' end as status,
              l.linked_version, l.linked_audit_id::text as linked_audit_id, l.acked_audit_id::text as acked_audit_id, l.alerted_at
       from drift_guard.ddl_ledger l
       left join (select distinct w.txid from drift_guard.history_writes w where ${live}) t on t.txid = l.txid
       left join drift_guard.audit_log link on link.id = l.linked_audit_id
       where ($1::timestamptz is null or l.recorded_at >= $1::timestamptz)
         and ($2::timestamptz is null or l.recorded_at < $2::timestamptz)
         and ($3::text is null or pg_catalog.strpos(pg_catalog.lower(coalesce(l.object_identity, '')), pg_catalog.lower($3::text)) > 0)
     ) e
     where ($4::text = 'all' or e.status = $4::text)
     order by e.id::bigint desc
     limit $5`,
    [query.since?.toISOString() ?? null, query.until?.toISOString() ?? null, query.object ?? null, wanted, query.limit ?? 1000],
  );
  return rows.reverse().map((r) => ({
    ...r,
    claimed: claimedFields(r),
    recorded_at: new Date(r.recorded_at).toISOString(),
    alerted_at: r.alerted_at ? new Date(r.alerted_at).toISOString() : null,
  }));
}

/**
 * How full the ledger is against its retention: entries in all, and the untracked,
 * unacknowledged, unlinked ones past retention_rows or retention_days, which ledger_prune
 * keeps. Null when the ledger is not installed. The past-retention entries are few unless
 * nobody reviews them, so this reads an index range, not the whole ledger.
 *
 * @example await ledgerRetention(sql) // { entries: 120000, retention_rows: 100000, retention_days: 90, kept_past_retention: 20000 }
 */
export async function ledgerRetention(sql: Sql): Promise<LedgerRetention | null> {
  if (!(await ledgerInstalled(sql))) return null;
  const [{ history }] = await sql.unsafe<{ history: boolean }[]>(
    "select pg_catalog.to_regclass('supabase_migrations.schema_migrations') is not null as history",
  );
  // Tracked as drift_guard.ledger_prune judges it: a history row of the transaction that still exists.
  const tracked = history
    ? `exists (select 1 from drift_guard.history_writes w
               where w.txid = l.txid and w.op <> 'delete'
                 and not exists (select 1 from drift_guard.history_writes x where x.txid = w.txid and x.version = w.version and x.op = 'delete' and x.id > w.id)
                 and exists (select 1 from supabase_migrations.schema_migrations m where m.version = w.version))`
    : "false";
  // Past retention is one id range, read by the primary key: the last retention_rows ids are
  // within it, and ids grow with time, so the entries older than retention_days are the first
  // ones, up to the oldest recent entry.
  const [settings] = await sql.unsafe<{ retention_rows: number; retention_days: number; past: string | null }[]>(
    `select s.retention_rows, s.retention_days,
            greatest((select pg_catalog.max(l.id) from drift_guard.ddl_ledger l) - s.retention_rows,
                                coalesce((select l.id from drift_guard.ddl_ledger l
                                          where l.recorded_at >= pg_catalog.now() - pg_catalog.make_interval(days => s.retention_days)
                                          order by l.id limit 1) - 1,
                                         (select pg_catalog.max(l.id) from drift_guard.ddl_ledger l)))::text as past
     from drift_guard.ledger_settings s where s.id`,
  );
  if (!settings) return null;
  const [{ kept }] = await sql.unsafe<{ kept: string }[]>(
    `select pg_catalog.count(*)::text as kept from drift_guard.ddl_ledger l
     where l.id <= $1::bigint and l.acked_audit_id is null and l.linked_audit_id is null and not ${tracked}`,
    [settings.past ?? "0"],
  );
  // Counting every entry is the one full scan, and only worth it for the warning.
  const entries = Number(kept) > 0
    ? Number((await sql.unsafe<{ n: string }[]>("select pg_catalog.count(*)::text as n from drift_guard.ddl_ledger"))[0].n)
    : null;
  return { entries, retention_rows: settings.retention_rows, retention_days: settings.retention_days, kept_past_retention: Number(kept) };
}

/** The report's problems about the ledger itself: [] or the warning of {@link ledgerRetentionProblem}. */
export async function ledgerProblems(sql: Sql): Promise<Problem[]> {
  const retention = await ledgerRetention(sql);
  const problem = retention && ledgerRetentionProblem(retention);
  return problem ? [problem] : [];
}

/**
 * The report's `untracked_changes`: unresolved entries since `since` (default: since the
 * ledger was installed), grouped by object. [] when the ledger is not installed.
 */
export async function untrackedChanges(sql: Sql, since?: Date): Promise<UntrackedChange[]> {
  if (!(await ledgerInstalled(sql))) return [];
  return groupUntracked(await readLedger(sql, { since, status: "unresolved", limit: 10_000 }));
}

/** Parses `--id 7 8 9` / `"ids": [7, "8"]`: positive whole numbers, at most 10,000. */
export function parseLedgerIds(values: ReadonlyArray<string | number>): string[] {
  if (values.length === 0) throw new DriftGuardError("bad_input", "name at least one ledger entry id", "drift-guard ledger lists them");
  if (values.length > 10_000) throw new DriftGuardError("bad_input", "at most 10,000 ids at once");
  return values.map((v) => {
    const s = String(v).trim();
    if (!/^[1-9][0-9]{0,17}$/.test(s)) throw new DriftGuardError("bad_input", `"${s.slice(0, 40)}" is not a ledger entry id (a positive whole number)`, "drift-guard ledger lists them");
    return s;
  });
}

/** Marks entries reviewed; the acknowledgement is an audit-log entry of kind "ack". */
export async function acknowledgeLedger(sql: Sql, ids: readonly string[], reason: string, actor: Record<string, unknown>):
  Promise<{ audit_id: string; acknowledged: number }> {
  const [row] = await sql.unsafe<{ r: { audit_id: string; acknowledged: number } }[]>(
    "select drift_guard.ledger_ack($1::text::bigint[], $2, $3::text::jsonb) as r",
    [`{${ids.join(",")}}`, reason, JSON.stringify(actor)],
  );
  return row.r;
}

/**
 * After a repair marked `versions` applied: links the untracked entries for the objects
 * those migrations create to the version and the repair's audit id. Returns how many.
 */
export async function linkLedger(sql: Sql, auditId: string, migrations: readonly LocalMigration[]): Promise<number> {
  const links = migrations
    .map((m) => ({ version: m.version, objects: extractCreatedObjects(m.statements) }))
    .filter((l) => l.objects.length > 0);
  if (links.length === 0 || !(await ledgerInstalled(sql))) return 0;
  const [row] = await sql.unsafe<{ n: string }[]>("select drift_guard.ledger_link($1::uuid, $2::text::jsonb)::text as n", [auditId, JSON.stringify(links)]);
  return Number(row.n);
}

/** Ledger ids as one bigint[] parameter (ids are digit strings, from the ledger itself). */
const idArray = (ids: readonly string[]) => `{${ids.join(",")}}`;

/**
 * Claims entries for one alert delivery: returns the ids this check may send, those not yet
 * alerted that no other check (here or in another function instance) is delivering. The claim
 * lapses after `leaseMs`, so a delivery that never finished is retried by a later check.
 *
 * @example const mine = await claimAlert(sql, ["41", "42"], 8_000) // ["42"] when 41 is being sent
 */
export async function claimAlert(sql: Sql, ids: readonly string[], leaseMs: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const [row] = await sql.unsafe<{ ids: string[] }[]>(
    "select drift_guard.ledger_claim_alert($1::text::bigint[], $2::int)::text[] as ids",
    [idArray(ids), Math.ceil(leaseMs)],
  );
  return row.ids;
}

/** Gives back a claim whose delivery failed, so that the next check sends these entries. */
export async function releaseAlert(sql: Sql, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = await sql.unsafe<{ n: string }[]>("select drift_guard.ledger_release_alert($1::text::bigint[])::text as n", [idArray(ids)]);
  return Number(row.n);
}

/** Records that an alert for these entries was delivered, so that no later check sends them again. */
export async function markAlerted(sql: Sql, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = await sql.unsafe<{ n: string }[]>("select drift_guard.ledger_mark_alerted($1::text::bigint[])::text as n", [idArray(ids)]);
  return Number(row.n);
}
