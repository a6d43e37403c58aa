/**
 * Replay follows `supabase db push`: statements split exactly as the CLI
 * splits them (shared/sql_statements.ts), each migration in its own
 * transaction, each statement sent on its own over the extended protocol, in
 * one session that is reset after each migration: `supabase db push` runs
 * RESET ALL between migrations, so a dump's `set_config('search_path', '', false)`
 * does not reach the next file, which starts from the role's and database's
 * search_path (Shadow.sessionSearchPath, copied from the live database).
 */
import type { LocalMigration } from "../../shared/types.ts";
import { quoteIdent, quoteLiteral } from "../../shared/schema_diff.ts";
import type { Shadow } from "./shadow.ts";

export interface ReplayResult {
  migrations: number;
  statements: number;
  /** Statements skipped, with why (embedded shadow only: platform extensions PGlite lacks). */
  skipped: Array<{ file: string; statement: number; reason: string }>;
  /** What was fixed in the shadow so that a migration could replay. */
  repaired: Array<{ file: string; statement: number; action: string }>;
}

export class ReplayError extends Error {
  constructor(
    readonly file: string,
    readonly version: string,
    readonly statement: number,
    readonly detail: string,
    readonly sqlText: string,
    /** Postgres's SQLSTATE and the error's 1-based character position in the statement, when it gave them. */
    readonly sqlState: string | null = null,
    readonly position: number | null = null,
  ) {
    super(`${file}: statement ${statement} failed: ${detail}`);
  }
}

export interface ReplayOptions {
  /** May handle a statement itself (returns why), e.g. `create extension pg_net` on a --shadow-url without pg_net. */
  skip?: (statement: string) => Promise<string | null>;
  /**
   * Called when a statement fails. May fix the shadow (e.g. create a role the
   * live database has) and return what it did: the migration is then retried.
   */
  repair?: (err: unknown) => Promise<string | null>;
  /** Called after each migration with how many are done. */
  progress?: (done: number) => void;
}

/** Replays the migrations in order, each in its own transaction, as `supabase db push` does. */
export async function replayMigrations(shadow: Shadow, migrations: readonly LocalMigration[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const result: ReplayResult = { migrations: 0, statements: 0, skipped: [], repaired: [] };
  for (const m of migrations) {
    for (let attempt = 0;; attempt++) {
      const outcome = await replayOne(shadow, m, options.skip);
      if (outcome.ok) {
        result.statements += outcome.statements;
        result.skipped.push(...outcome.skipped);
        await resetSession(shadow);
        break;
      }
      const fixed = attempt < 20 && options.repair ? await options.repair(outcome.err) : null;
      if (!fixed) {
        const e = outcome.err as { code?: string; position?: string | number };
        const position = Number(e?.position);
        throw new ReplayError(m.path, m.version, outcome.statement, errorText(outcome.err), m.statements[outcome.statement - 1] ?? "",
          typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : null, Number.isInteger(position) && position > 0 ? position : null);
      }
      result.repaired.push({ file: m.path, statement: outcome.statement, action: fixed });
    }
    result.migrations++;
    options.progress?.(result.migrations);
  }
  return result;
}

/** What `supabase db push` does between migrations, with the live session's search_path as the default. */
async function resetSession(shadow: Shadow): Promise<void> {
  if (shadow.sessionSearchPath === undefined) return;
  await shadow.exec("reset all");
  await shadow.query("select pg_catalog.set_config('search_path', $1, false)", [shadow.sessionSearchPath]);
}

type Outcome =
  | { ok: true; statements: number; skipped: ReplayResult["skipped"] }
  | { ok: false; statement: number; err: unknown };

async function replayOne(shadow: Shadow, m: LocalMigration, skip?: (statement: string) => Promise<string | null>): Promise<Outcome> {
  if (m.statements.length === 0) return { ok: true, statements: 0, skipped: [] };
  const skipped: ReplayResult["skipped"] = [];
  let ran = 0;
  await shadow.exec("begin");
  let i = 0;
  try {
    for (; i < m.statements.length; i++) {
      const stmt = m.statements[i];
      const why = skip ? await skip(stmt) : null;
      if (why) {
        skipped.push({ file: m.path, statement: i + 1, reason: why });
        continue;
      }
      await shadow.run(stmt);
      ran++;
    }
    await shadow.exec("commit");
    return { ok: true, statements: ran, skipped };
  } catch (err) {
    await shadow.exec("rollback").catch(() => {});
    return { ok: false, statement: i + 1, err };
  }
}

/**
 * The usual repair: a migration names a role that the live platform has but
 * the shadow lacks (supabase_admin, dashboard_user, a role made by hand…).
 * The role is created in the shadow (nologin) and the migration retried.
 */
export function missingRoleRepair(shadow: Shadow, liveRoles: ReadonlySet<string>): (err: unknown) => Promise<string | null> {
  return async (err) => {
    const e = err as { code?: string; message?: string };
    const m = e?.code === "42704" ? /role "((?:[^"]|"")+)" does not exist/.exec(e.message ?? "") : null;
    if (!m || !liveRoles.has(m[1])) return null;
    await shadow.exec(`do $$ begin if not exists (select from pg_catalog.pg_roles where rolname = ${quoteLiteral(m[1])}) then create role ${quoteIdent(m[1])} nologin; end if; end $$`);
    return `created role ${m[1]} in the shadow (the live database has it; migrations use it)`;
  };
}

function errorText(err: unknown): string {
  const e = err as { message?: string; code?: string; detail?: string; hint?: string };
  const parts = [e?.message ?? String(err)];
  if (e?.code && /^[0-9A-Z]{5}$/.test(e.code)) parts.push(`(SQLSTATE ${e.code})`);
  if (e?.detail) parts.push(`detail: ${e.detail}`);
  return parts.join(" ");
}
