/** The --shadow-url shadow: an empty real Postgres, one reserved session. */
import { DriftGuardError } from "../../shared/types.ts";
import { openDatabase } from "../connect.ts";
import { databaseError } from "../database_error.ts";
import type { Shadow } from "./shadow.ts";

export async function openPostgresShadow(url: string): Promise<Shadow> {
  const sql = openDatabase(url, { max: 1, applicationName: "drift-guard shadow" });
  let conn: Awaited<ReturnType<typeof sql.reserve>>;
  try {
    conn = await sql.reserve();
  } catch (err) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw shadowUnreachable(err, url);
  }
  return {
    kind: "postgres",
    standInMode: "statement",
    async exec(text) {
      await conn.unsafe(text);
    },
    async run(statement) {
      await conn.unsafe(statement);
    },
    async query(text, params) {
      return [...(await conn.unsafe(text, (params ?? []) as any[]))] as Record<string, unknown>[];
    },
    catalog: {
      async transaction(fn) {
        await conn.unsafe("begin isolation level repeatable read read only");
        try {
          const result = await fn(async (text, params) => [...(await conn.unsafe(text, (params ?? []) as any[]))] as Record<string, unknown>[]);
          await conn.unsafe("commit");
          return result;
        } catch (err) {
          await conn.unsafe("rollback").catch(() => {});
          throw err;
        }
      },
    },
    async serverVersionNum() {
      const [r] = await conn.unsafe("select current_setting('server_version_num') as v");
      return Number(r.v);
    },
    async close() {
      conn.release();
      await sql.end({ timeout: 2 }).catch(() => {});
    },
  };
}

/** A failure talking to a --shadow-url database, as our error (never its password). */
export function shadowUnreachable(err: unknown, url: string): DriftGuardError {
  if (err instanceof DriftGuardError) return err;
  const e = databaseError(err, url);
  return new DriftGuardError(e.code, `shadow database: ${e.message}`, e.hint);
}
