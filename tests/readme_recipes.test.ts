/**
 * The curl recipes in docs/http-api.md, executed verbatim against `npm run serve`, in
 * order, as a newcomer would paste them. Only `npx` is pointed at this checkout,
 * because the recipes run in a scratch project that has no node_modules.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { BIN, driftGuard } from "./harness/drift_guard_cli.ts";
import { type FunctionServer, startFunctionServer } from "./harness/function_server.ts";
import { makeProject, supabasePush } from "./harness/supabase_cli.ts";

const README = readFileSync(resolve(import.meta.dirname, "../docs/http-api.md"), "utf8");
const section = README.slice(README.indexOf("<!-- recipes:start -->"), README.indexOf("<!-- recipes:end -->"));
const recipes = [...section.matchAll(/([^\n]+)\n```sh\n([\s\S]*?)```/g)].map((m) => ({ title: m[1], script: m[2] }));

const EXPECTED = [200, 201, 409, 409, 200, 200, 200, 200, 200, 200];

describe("README curl recipes", () => {
  let db: TestDatabase;
  let server: FunctionServer;
  let project: string;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase("recipes");
    project = makeProject({ "20240101000000_base.sql": "create table public.base(id int);" });
    supabasePush(db.url, project);
    writeFileSync(join(project, "supabase/migrations/004_legacy.sql"), "create table public.legacy(id int);");
    await db.sql`create table public.legacy(id int)`;
    expect(driftGuard(["install", "--db-url", db.url]).status).toBe(0);
    const token = driftGuard(["token", "create", "--db-url", db.url, "--scope", "repair", "--label", "readme"]).stdout.trim().split("\n").at(-1)!;
    server = await startFunctionServer({ SUPABASE_DB_URL: db.url });
    const shims = mkdtempSync(join(tmpdir(), "dg-npx-"));
    writeFileSync(join(shims, "npx"), `#!/bin/sh\n[ "$1" = drift-guard ] && shift && exec node ${JSON.stringify(BIN)} "$@"\nexit 127\n`);
    chmodSync(join(shims, "npx"), 0o755);
    Object.assign(env, { DRIFT_GUARD_URL: server.url, DRIFT_GUARD_TOKEN: token, PATH: `${shims}:${process.env.PATH}` });
  });
  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it("has the recipes the tests expect", () => {
    expect(recipes).toHaveLength(EXPECTED.length);
  });

  it("every recipe answers with the documented status", () => {
    recipes.forEach(({ title, script }, i) => {
      // Verbatim script; curl additionally prints the status code on a last line.
      const wrapped = `curl() { command curl -w '\\n%{http_code}' "$@"; }\n${script}`;
      const r = spawnSync("bash", ["-euo", "pipefail", "-c", wrapped], { cwd: project, env: { ...process.env, ...env }, encoding: "utf8" });
      const lines = r.stdout.trimEnd().split("\n");
      const status = Number(lines.at(-1));
      const body = lines.slice(0, -1).join("\n");
      expect({ title, status, stderr: r.stderr }).toMatchObject({ title, status: EXPECTED[i] });
      const json = JSON.parse(body.slice(body.lastIndexOf("\n{") + 1));
      if (title.startsWith("Preview a repair")) {
        expect(json).toMatchObject({ dry_run: true, changes: [{ op: "insert", version: "004" }] });
        env.DIGEST = json.history_digest;
      }
      if (title.startsWith("Apply exactly")) {
        expect(json.dry_run).toBe(false);
        env.AUDIT_ID = json.audit_id;
      }
      if (title.startsWith("One stored history row")) expect(json.statements).toEqual(["create table public.legacy(id int)"]);
      if (title.startsWith("Undo")) expect(json.history_digest).toBe(env.DIGEST);
      if (title.startsWith("The live schema's fingerprint")) {
        expect(json.schema_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(JSON.stringify(json.objects)).toContain("legacy");
      }
    });
  });
});
