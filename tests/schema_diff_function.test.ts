/**
 * `drift-guard schema-diff --url … --token …`: the live schema comes from the served
 * function's GET /schema (as `npm run serve` serves it), the shadow is replayed
 * locally, and the result is the same as `schema-diff --db-url` on the same database.
 * The live database is migrated by the real Supabase CLI; drift_guard is installed
 * and the read token minted by the real CLI.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { runCli } from "./harness/cli_in_process.ts";
import { schemaDiff } from "./harness/schema_diff_cli.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { freePort } from "./harness/postgres.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const CORPUS_DIR = join(import.meta.dirname, "fixtures", "corpus");
const corpus = (): Record<string, string> => Object.fromEntries(readdirSync(CORPUS_DIR).map((f) => [f, readFileSync(join(CORPUS_DIR, f), "utf8")]));

/** What must be equal between --url and --db-url: everything but timings and the suggested file's timestamp. */
const comparable = (json: any) => ({
  status: json.status,
  schema: json.schema,
  problems: json.problems,
  live: json.live,
  schemas: json.schemas,
  shadow: { kind: json.shadow.kind, migrations: json.shadow.migrations, statements: json.shadow.statements },
  suggested: json.suggested_migration.sql.replace(/\(20\d\d-.*Z\)/, ""),
  notes: json.suggested_migration.notes.map((n: string) => n.replace(/\d{14}/g, "V")),
});

describe("schema-diff through the function (GET /schema)", () => {
  let live: TestDatabase;
  let server: FunctionServer;
  let dir: string;
  let read: string;

  beforeAll(async () => {
    live = await createTestDatabase("sd_fn");
    dir = makeProject(corpus());
    supabasePush(live.url, dir);
    const installed = await runCli(["install", "--db-url", live.url]);
    expect(installed.status, installed.stderr).toBe(0);
    const token = await runCli(["token", "create", "--db-url", live.url, "--scope", "read", "--label", "ci-schema"]);
    expect(token.status, token.stderr).toBe(0);
    read = token.stdout.trim().split("\n").at(-1)!;
    server = await startFunctionServer({ SUPABASE_DB_URL: live.url });
  });
  afterAll(async () => {
    await server?.stop();
    await live?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("in sync: exit 0, the same report as --db-url", async () => {
    const viaFunction = await schemaDiff(["--url", server.url, "--token", read, "--format", "json"], dir);
    expect(viaFunction.stderr).toBe("");
    expect(viaFunction.status).toBe(0);
    expect(viaFunction.json.status).toBe("in_sync");
    expect(viaFunction.json.schema.differences).toEqual([]);
    expect(viaFunction.json.schema.summary.compared.actual).toBeGreaterThan(60);
    const direct = await schemaDiff(["--db-url", live.url, "--format", "json"], dir);
    expect(direct.status).toBe(0);
    expect(comparable(viaFunction.json)).toEqual(comparable(direct.json));
  });

  it("--url and --token fall back to DRIFT_GUARD_URL and DRIFT_GUARD_TOKEN; text output", async () => {
    const r = await schemaDiff([], dir, { DRIFT_GUARD_URL: server.url, DRIFT_GUARD_TOKEN: read });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^in sync: the live schema matches what the migrations build/);
  });

  it("bad token, no token, unreachable function: exit 3 or 2, and no secret printed", async () => {
    const bad = await schemaDiff(["--url", server.url, "--token", "dg_not_a_real_token_0123456789"], dir);
    expect(bad.status).toBe(3);
    expect(bad.stderr).toMatch(/function/);
    expect(bad.stderr + bad.stdout).not.toContain(live.url);
    const missing = await schemaDiff(["--url", server.url], dir);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--token/);
    const closed = await schemaDiff(["--url", `http://127.0.0.1:${await freePort()}/functions/v1/migration-drift`, "--token", read], dir);
    expect(closed.status).toBe(3);
    expect(closed.stderr).toMatch(/cannot reach the function/);
    const both = await schemaDiff(["--url", server.url, "--token", read, "--db-url", live.url], dir);
    expect(both.status).toBe(2);
  });

  it("dashboard changes: exit 1 naming the objects, the same differences as --db-url", async () => {
    await live.sql.unsafe(`
      alter table public.profiles add column x int;
      alter policy "Users can update own profile." on public.profiles using (true);`);
    const viaFunction = await schemaDiff(["--url", server.url, "--token", read, "--format", "json"], dir);
    expect(viaFunction.stderr).toBe("");
    expect(viaFunction.status).toBe(1);
    expect(viaFunction.json.schema.differences.map((d: any) => [d.change, d.kind, d.object])).toEqual([
      ["changed", "policy", '"Users can update own profile." on public.profiles'],
      ["extra", "column", "public.profiles.x"],
    ]);
    const direct = await schemaDiff(["--db-url", live.url, "--format", "json"], dir);
    expect(direct.status).toBe(1);
    expect(comparable(viaFunction.json)).toEqual(comparable(direct.json));

    const text = await schemaDiff(["--url", server.url, "--token", read], dir);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain("public.profiles.x");
    expect(text.stdout).toContain('"Users can update own profile." on public.profiles');

    // --include-schema reaches the function: a schema without changes is in sync.
    const other = await schemaDiff(["--url", server.url, "--token", read, "--include-schema", "private", "--format", "json"], dir);
    expect(other.json?.schemas?.include, other.stderr).toEqual(["private"]);
    expect(other.json.schema.differences.filter((d: any) => d.object.startsWith("public."))).toEqual([]);
  });
});
