/**
 * drift-guard as a Supabase user meets it: `npm pack` this repository, install the
 * tarball into a scratch project made by `supabase init`, and run the README's
 * quick start verbatim in it, with `supabase functions deploy` replaced by
 * `drift-guard serve`. Then: the written function passes `deno check`, none of
 * its imports leaves its folder, and the served function answers 200 in sync and
 * 409 after a dashboard-style change to the history.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { freePort } from "./harness/postgres.ts";
import { killTree } from "./harness/process_group.ts";
// @ts-ignore: a plain ES module without types
import { moduleSpecifiers } from "../scripts/build.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const SUPABASE_BIN = join(ROOT, "node_modules", ".bin", "supabase");
const DENO_BIN = join(ROOT, "node_modules", ".bin", "deno");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const VERSION: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;

/** The quick start's shell blocks, in order. */
export function quickStartScript(): string {
  const start = README.indexOf("<!-- quickstart:start -->");
  const end = README.indexOf("<!-- quickstart:end -->");
  if (start < 0 || end < start) throw new Error("README.md has no <!-- quickstart:start --> … <!-- quickstart:end --> section");
  return [...README.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join("");
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: 300_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

function ok(r: ReturnType<typeof run>, what: string) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe("the packed package in a project made by `supabase init`", () => {
  let db: TestDatabase;
  let project: string;
  let tarball: string;
  let server: ChildProcess | undefined;
  let serverOutput = "";
  let port: number;
  const env: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase("e2e");
    const packDir = mkdtempSync(join(tmpdir(), "drift-guard-pack-"));
    const packed = ok(run("npm", ["pack", "--pack-destination", packDir, "--silent"], ROOT), "npm pack");
    tarball = join(packDir, packed.stdout.trim().split("\n").at(-1)!);

    project = mkdtempSync(join(tmpdir(), "drift-guard-user-"));
    ok(run("npm", ["init", "-y"], project), "npm init");
    ok(run(SUPABASE_BIN, ["init", "--yes"], project, { SUPABASE_TELEMETRY_DISABLED: "1" }), "supabase init");
    // A project that already has a migration, pushed before drift-guard arrives.
    mkdirSync(join(project, "supabase", "migrations"), { recursive: true });
    writeFileSync(join(project, "supabase", "migrations", "20240101000000_profiles.sql"), "create table public.profiles (id uuid primary key, name text);\n");
    ok(run(SUPABASE_BIN, ["db", "push", "--db-url", db.url, "--yes"], project), "supabase db push (before drift-guard)");
    // The README installs ./drift-guard-<version>.tgz from the project directory.
    copyFileSync(tarball, join(project, `drift-guard-${VERSION}.tgz`));
    port = await freePort();
    Object.assign(env, {
      SUPABASE_DB_URL: db.url,
      DRIFT_GUARD_URL: `http://127.0.0.1:${port}/functions/v1/migration-drift`,
      PORT: String(port),
      SUPABASE_TELEMETRY_DISABLED: "1",
    });
  }, 600_000);

  afterAll(async () => {
    if (server?.pid) await killTree(server.pid);
    await db?.drop();
  });

  it("the README's quick start runs as written (deploy replaced by serve)", async () => {
    const script = quickStartScript();
    const [beforeDeploy, afterDeploy] = script.split(/^npx supabase functions deploy .*$/m);
    expect(afterDeploy, "the quick start deploys the function").toBeDefined();
    // Only the placeholders the user fills in are replaced: their database and their function's URL.
    const fill = (s: string) =>
      s.replace(/^export SUPABASE_DB_URL=.*$/m, "export SUPABASE_DB_URL=\"$SUPABASE_DB_URL\"")
        .replace(/^export DRIFT_GUARD_URL=.*$/m, "export DRIFT_GUARD_URL=\"$DRIFT_GUARD_URL\"");
    const installLines = beforeDeploy.split("\n").filter((l) => l.startsWith("npm install "));
    expect(installLines, "the quick start installs the package first").toHaveLength(1);
    const install = run("bash", ["-euo", "pipefail", "-c", installLines[0]], project, env);
    expect(install.status, `${install.stderr}\n${install.stdout}`).toBe(0);
    // The user has their own Supabase CLI; the scratch project borrows this checkout's.
    symlinkSync(SUPABASE_BIN, join(project, "node_modules", ".bin", "supabase"));
    const setUp = run("bash", ["-euo", "pipefail", "-c", fill(beforeDeploy.replace(installLines[0], ""))], project, env);
    expect(setUp.status, `${setUp.stderr}\n${setUp.stdout}`).toBe(0);

    server = spawn("npx", ["drift-guard", "serve"], { cwd: project, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    server.stdout!.on("data", (d) => (serverOutput += d));
    server.stderr!.on("data", (d) => (serverOutput += d));
    await new Promise<void>((ready, fail) => {
      const check = () => serverOutput.includes("listening on") && ready();
      server!.stdout!.on("data", check);
      server!.once("exit", (code) => fail(new Error(`drift-guard serve exited (${code}):\n${serverOutput}`)));
    });

    const rest = run("bash", ["-euo", "pipefail", "-c", fill(afterDeploy)], project, env);
    expect(rest.status, `${rest.stderr}\n${rest.stdout}\n--- serve ---\n${serverOutput}`).toBe(0);
    expect(rest.stdout).toMatch(/in sync/);
  }, 600_000);

  it("init wrote a self-contained function that deno check accepts", () => {
    const fnDir = join(project, "supabase", "functions", "migration-drift");
    const imports = JSON.parse(readFileSync(join(fnDir, "deno.json"), "utf8")).imports as Record<string, string>;
    for (const spec of Object.values(imports)) expect(spec).toMatch(/^npm:\/?[@a-z0-9/._-]+@\d+\.\d+\.\d+\/?$/);
    for (const file of filesUnder(fnDir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(file, "utf8");
      expect(text.split("\n")[0], file).toMatch(new RegExp(`^// Generated by drift-guard ${VERSION.replace(/\./g, "\\.")} `));
      expect(text.match(/^\/\/ Generated by drift-guard /gm), `${file}: one stamp line`).toHaveLength(1);
      for (const spec of moduleSpecifiers(text)) {
        if (spec.startsWith(".")) {
          const target = relative(fnDir, resolve(dirname(file), spec));
          expect(target.startsWith(".."), `${relative(fnDir, file)} imports ${spec}, outside the function's folder`).toBe(false);
        } else {
          const mapped = spec in imports || Object.keys(imports).some((k) => k.endsWith("/") && spec.startsWith(k));
          expect(mapped || spec.startsWith("node:"), `${relative(fnDir, file)} imports ${spec}, which deno.json does not pin`).toBe(true);
        }
      }
    }
    const checked = run(DENO_BIN, ["check", "--config", "deno.json", "index.ts"], fnDir);
    expect(checked.status, checked.stderr).toBe(0);
  }, 300_000);

  it("init registered the function and left every other line of config.toml as supabase init wrote it", () => {
    const config = readFileSync(join(project, "supabase", "config.toml"), "utf8");
    const pristine = mkdtempSync(join(tmpdir(), "drift-guard-pristine-"));
    ok(run(SUPABASE_BIN, ["init", "--yes"], pristine, { SUPABASE_TELEMETRY_DISABLED: "1" }), "supabase init");
    const original = readFileSync(join(pristine, "supabase", "config.toml"), "utf8");
    // supabase init names the project after its directory; every other byte must be the same.
    const projectId = (text: string) => text.replace(/^project_id = ".*"$/m, 'project_id = "…"');
    expect(projectId(config).startsWith(projectId(original))).toBe(true);
    expect(projectId(config).slice(projectId(original).length)).toMatch(/^\n\[functions\.migration-drift\]\n[\s\S]*verify_jwt = false\n/);
  }, 120_000);

  it("GET /status: 200 in sync, then 409 after a dashboard-style change to the history", async () => {
    const token = run("npx", ["drift-guard", "token", "create", "--scope", "read", "--label", "e2e-read"], project, env).stdout.trim().split("\n").at(-1)!;
    const status = () => fetch(`${env.DRIFT_GUARD_URL}/status`, { headers: { authorization: `Bearer ${token}` } });
    const inSync = await status();
    const body = await inSync.json();
    expect(inSync.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("in_sync");
    // As if someone ran SQL in the dashboard's editor and recorded it by hand.
    await db.sql`insert into supabase_migrations.schema_migrations (version, name, statements) values ('20990101000000', 'dashboard_fix', array['create table public.x (id int)'])`;
    const drifted = await status();
    const report = await drifted.json();
    expect(drifted.status).toBe(409);
    expect(report.summary.remote_only).toBe(1);
  });

  it("a second init changes nothing and says so", () => {
    const r = ok(run("npx", ["drift-guard", "init"], project, env), "init again");
    expect(r.stdout).toMatch(/Nothing to change/);
  });
});
