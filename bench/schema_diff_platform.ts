/**
 * Benchmark: `drift-guard schema-diff` on a dump-style Supabase project: one init file as
 * `supabase db dump` writes it plus 37 small migrations, over 4,000 statements in all (BENCH_TABLES=300,
 * BENCH_FUNCTIONS=200), pushed with the real Supabase CLI onto a Supabase-shaped PostgreSQL 15
 * (tests/harness/platform_postgres.ts). Prints wall times of the CLI as users run it, and what reading
 * the live platform's skeleton (db/platform_skeleton.ts) costs on its own; asserts nothing.
 *
 *   deno run --allow-all --config deno.json bench/schema_diff_platform.ts     (BENCH_RUNS=3)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { splitStatements } from "../shared/sql_statements.ts";
import { DUMP_PREAMBLE } from "../tests/harness/dump_style.ts";
import { startPlatformPostgres } from "../tests/harness/platform_postgres.ts";
import { makeProject, supabasePush } from "../tests/harness/supabase_cli.ts";
import { median } from "./stats.ts";
import postgres from "postgres";
import { postgresCatalog } from "../db/catalog.ts";
import { readPlatformSkeleton } from "../db/platform_skeleton.ts";
import { skeletonStatements } from "../shared/platform_skeleton.ts";

const root = new URL("..", import.meta.url).pathname;
const env = process.env;
const RUNS = Number(env.BENCH_RUNS ?? 3);
const TABLES = Number(env.BENCH_TABLES ?? 300);
const FUNCTIONS = Number(env.BENCH_FUNCTIONS ?? 200);
const SMALL = 37;

const q = (s: string) => `"${s}"`;

function initFile(): string {
  const out: string[] = [DUMP_PREAMBLE];
  for (let f = 0; f < FUNCTIONS; f++) {
    out.push(`CREATE OR REPLACE FUNCTION "public"."fn_${f}"("p" "uuid") RETURNS bigint
    LANGUAGE "plpgsql" STABLE SECURITY DEFINER
    SET "search_path" TO ''
    AS $$
begin
  return (select count(*) from auth.users u where u.id = p);
end $$;
ALTER FUNCTION "public"."fn_${f}"("p" "uuid") OWNER TO "postgres";
GRANT ALL ON FUNCTION "public"."fn_${f}"("p" "uuid") TO "authenticated";
GRANT ALL ON FUNCTION "public"."fn_${f}"("p" "uuid") TO "service_role";
REVOKE ALL ON FUNCTION "public"."fn_${f}"("p" "uuid") FROM "anon";
`);
  }
  for (let t = 0; t < TABLES; t++) {
    const n = `t_${t}`, tn = `${q("public")}.${q(n)}`;
    out.push(`CREATE TABLE IF NOT EXISTS ${tn} (
    "id" "uuid" DEFAULT "extensions"."uuid_generate_v4"() NOT NULL,
    "owner_id" "uuid" NOT NULL,
    "title" "text",
    "data" "jsonb" DEFAULT '{}'::"jsonb",
    "created_at" timestamp with time zone DEFAULT "now"() NOT NULL
);
ALTER TABLE ${tn} OWNER TO "postgres";
ALTER TABLE ONLY ${tn} ADD CONSTRAINT ${q(n + "_pkey")} PRIMARY KEY ("id");
ALTER TABLE ONLY ${tn} ADD CONSTRAINT ${q(n + "_owner_id_fkey")} FOREIGN KEY ("owner_id") REFERENCES "auth"."users"("id") ON DELETE CASCADE;
CREATE INDEX ${q(n + "_owner_idx")} ON ${tn} USING "btree" ("owner_id");
CREATE POLICY "own rows" ON ${tn} FOR ALL TO "authenticated" USING ((( SELECT "auth"."uid"() AS "uid") = "owner_id")) WITH CHECK ((( SELECT "auth"."uid"() AS "uid") = "owner_id"));
ALTER TABLE ${tn} ENABLE ROW LEVEL SECURITY;
GRANT ALL ON TABLE ${tn} TO "anon";
GRANT ALL ON TABLE ${tn} TO "authenticated";
GRANT ALL ON TABLE ${tn} TO "service_role";
`);
  }
  out.push("RESET ALL;\n");
  return out.join("\n");
}

function smallFile(i: number): string {
  const t = `public.t_${i % TABLES}`;
  return [
    `alter table ${t} add column if not exists note_${i} text;`,
    `create policy "read ${i}" on ${t} for select to anon using (false);`,
    `comment on column ${t}.note_${i} is 'added in migration ${i}';`,
    i % 5 === 0 ? `alter publication supabase_realtime add table ${t};` : `create index t_${i % TABLES}_note_${i}_idx on ${t} (note_${i});`,
  ].join("\n") + "\n";
}

function drift(args: string[], cwd: string, extraEnv: Record<string, string>): { ms: number; report: any } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath.includes("deno") ? "node" : process.execPath, [join(root, "bin/drift-guard.js"), "schema-diff", "--format", "json", ...args], {
    cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...env, NO_COLOR: "1", ...extraEnv },
  });
  const ms = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1) throw new Error(`schema-diff failed (${r.status}): ${r.stderr}`);
  return { ms, report: JSON.parse(r.stdout) };
}

const platform = await startPlatformPostgres();
const cacheDir = mkdtempSync(join(tmpdir(), "drift-guard-bench-cache-"));
let dir = "";
try {
  const files: Record<string, string> = { "20240101000000_remote_schema.sql": initFile() };
  for (let i = 0; i < SMALL; i++) files[`${20240102000000 + i * 100}_change_${i}.sql`] = smallFile(i);
  const init = files["20240101000000_remote_schema.sql"];
  const statements = Object.values(files).reduce((s, b) => s + splitStatements(b).length, 0);
  dir = makeProject(files);
  const live = await platform.database("bench_live");
  let t0 = performance.now();
  supabasePush(live.url, dir);
  const pushMs = performance.now() - t0;
  console.log(`schema-diff platform benchmark: ${Object.keys(files).length} migrations (init file ${(init.length / 1024).toFixed(0)} KB, ` +
    `${splitStatements(init).length} statements), ${statements} statements in all; pushed with the Supabase CLI in ${(pushMs / 1000).toFixed(1)} s`);

  // The live platform's skeleton, read alone (one query in a read-only transaction), as schema-diff reads it.
  const sql = postgres(live.url, { prepare: false, max: 1, onnotice: () => {} });
  try {
    const conn = postgresCatalog(sql);
    const reads: number[] = [];
    let skeleton!: Awaited<ReturnType<typeof readPlatformSkeleton>>;
    for (let r = 0; r < Math.max(RUNS, 5); r++) {
      const t = performance.now();
      skeleton = await conn.transaction((query) => readPlatformSkeleton(query));
      reads.push(performance.now() - t);
    }
    console.log(`  live platform skeleton read:            median ${median(reads).toFixed(1)} ms of ${reads.length}  [${skeleton.tables.length} tables, ` +
      `${skeleton.functions.length} functions, ${skeleton.types.length} types; ${(JSON.stringify(skeleton).length / 1024).toFixed(0)} KB of JSON; ` +
      `${skeletonStatements(skeleton, null).length} statements for the shadow]`);
  } finally {
    await sql.end({ timeout: 1 });
  }

  drift(["--db-url", live.url], dir, { DRIFT_GUARD_CACHE_DIR: cacheDir }); // fills the initdb cache
  const warm: number[] = [];
  let last: any;
  for (let r = 0; r < RUNS; r++) {
    const { ms, report } = drift(["--db-url", live.url], dir, { DRIFT_GUARD_CACHE_DIR: cacheDir });
    warm.push(ms);
    last = report;
  }
  console.log(`  embedded shadow (PGlite), warm:        median ${(median(warm) / 1000).toFixed(2)} s of ${RUNS} (target < 15 s)  [status ${last.status}, ` +
    `${last.schema.summary.differences} differences, ${last.schema.summary.compared.actual} objects; timings ${JSON.stringify(last.shadow.timings)}]`);

  for (const [label, make] of [["bare database", (l: string) => platform.emptyDatabase(l)], ["platform-shaped database", (l: string) => platform.database(l)]] as const) {
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const shadow = await make(`bench_shadow_${r}`);
      t0 = performance.now();
      const { ms, report } = drift(["--db-url", live.url, "--shadow-url", shadow.url], dir, {});
      times.push(ms);
      last = report;
      await shadow.drop();
    }
    console.log(`  --shadow-url, ${label.padEnd(24)} median ${(median(times) / 1000).toFixed(2)} s of ${RUNS} (target < 5 s)  [status ${last.status}, ` +
      `${last.schema.summary.differences} differences; timings ${JSON.stringify(last.shadow.timings)}]`);
  }
  await live.drop();
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
  platform.destroy();
}
