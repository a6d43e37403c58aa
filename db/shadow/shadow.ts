/**
 * The shadow database: where the local migrations are replayed to learn the
 * schema they build. Two kinds, one interface:
 *
 *  - embedded (default): PGlite, Postgres compiled to WebAssembly, run
 *    in-process in a temporary directory (db/shadow/pglite.ts).
 *  - postgres (--shadow-url): an empty real Postgres, for migrations that need
 *    an extension PGlite lacks, or to match the live server's major version
 *    (db/shadow/postgres.ts).
 */
import type { PlatformSkeleton } from "../../shared/platform_skeleton.ts";
import type { CatalogConnection } from "../catalog.ts";

export interface Shadow {
  kind: "embedded" | "postgres";
  /** Several statements at once (simple protocol): the bootstrap. */
  exec(sql: string): Promise<void>;
  /** One statement (extended protocol), as the Supabase CLI sends each one. */
  run(statement: string): Promise<void>;
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  catalog: CatalogConnection;
  /**
   * How an extension the shadow lacks is stood in for: as an extension (embedded:
   * control files in PGlite's file system), or by running its stand-in script in
   * place of the top-level statement (--shadow-url: see extensionStatementRule).
   */
  standInMode: "extension" | "statement";
  serverVersionNum(): Promise<number>;
  /** The live platform's skeleton, once bootstrap copied it: stand-ins take their members' stubs from it. */
  skeleton?: PlatformSkeleton;
  /**
   * The search_path a fresh session of the migration role has live (its role's, else its
   * database's setting). `supabase db push` resets the session after each migration
   * (RESET ALL), so each migration starts from it; bootstrap sets it.
   */
  sessionSearchPath?: string;
  close(): Promise<void>;
}
