/** The audit log, read the same way by `drift-guard audit` and GET /audit. */
import type { Sql } from "./connect.ts";

export interface AuditEntry {
  id: string;
  created_at: string;
  kind: "repair" | "undo";
  actor: Record<string, unknown>;
  reason: string;
  changes: Array<{ op: string; version: string; name: string | null }>;
  digest_before: string;
  digest_after: string;
  undoes: string | null;
  undone_by: string | null;
}

/** The audit log, newest first, in the shape `drift-guard audit --format json` prints. Statements stay in the table. */
export async function listAudit(sql: Sql, limit: number | null = null): Promise<AuditEntry[]> {
  const rows = await sql.unsafe<(Omit<AuditEntry, "created_at"> & { created_at: Date })[]>(
    `select id::text, created_at, kind, actor, reason, digest_before, digest_after,
            case when jsonb_typeof(plan -> 'changes') = 'array' then plan -> 'changes' else '[]'::jsonb end as changes,
            undoes::text, undone_by::text
     from drift_guard.audit_log
     order by created_at desc, id desc
     limit $1`,
    [limit],
  );
  return rows.map((r) => ({
    ...r,
    created_at: new Date(r.created_at).toISOString(),
    changes: r.changes.map(({ op, version, name }) => ({ op, version, name: name ?? null })),
  }));
}
