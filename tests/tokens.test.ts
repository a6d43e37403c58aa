/** `drift-guard token create|list|revoke` through the CLI, and db/tokens.ts verifyToken under Deno. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "./harness/database.ts";
import { ROOT, runCli } from "./drift_guard_schema_helpers.ts";

const TOKEN = /^dg_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

function denoBinary(): string {
  if (process.env.DENO_BIN) return process.env.DENO_BIN;
  const suffix = { linux: { x64: "linux-x64-glibc", arm64: "linux-arm64-glibc" }, darwin: { x64: "darwin-x64", arm64: "darwin-arm64" } }[
    process.platform as "linux" | "darwin"
  ]?.[process.arch as "x64" | "arm64"];
  const local = suffix ? join(ROOT, "node_modules", "@deno", suffix, "deno") : "";
  return local && existsSync(local) ? local : "deno";
}

/** verifyToken from db/tokens.ts, run the way the edge function runs it: under Deno. */
function verify(url: string, tokens: string[]): Array<{ id: string; label: string; scope: string } | null> {
  const script = `
    import { openDatabase } from "./db/connect.ts";
    import { verifyToken } from "./db/tokens.ts";
    const sql = openDatabase(Deno.args[0]);
    const out = [];
    for (const t of Deno.args.slice(1)) out.push(await verifyToken(sql, t));
    await sql.end();
    console.log(JSON.stringify(out));`;
  const r = spawnSync(denoBinary(), ["eval", "--quiet", "--config", join(ROOT, "deno.json"), script, "--", url, ...tokens], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`deno eval failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

async function createToken(url: string, scope: string, label: string): Promise<{ token: string; stdout: string }> {
  const r = await runCli(["token", "create", "--db-url", url, "--scope", scope, "--label", label]);
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trimEnd().split("\n");
  const token = lines.at(-1)!;
  expect(token).toMatch(TOKEN);
  return { token, stdout: r.stdout };
}

describe("tokens", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("tokens");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(async () => db?.drop());

  it("create prints the token alone on the last line, and stores only its hash", async () => {
    const { token, stdout } = await createToken(db.url, "deploy", "github-ci");
    expect(stdout).toContain("github-ci");
    expect(stdout.split("\n").filter((l) => l.includes(token))).toEqual([token]);

    const [, publicId, secret] = TOKEN.exec(token)!;
    const rows = await db.sql`select t.*, row_to_json(t)::text as everything from drift_guard.tokens t where label = 'github-ci'`;
    expect(rows).toHaveLength(1);
    expect(rows[0].scope).toBe("deploy");
    expect(rows[0].public_id).toBe(publicId);
    expect(rows[0].secret_hash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(rows[0].everything).not.toContain(secret);
    expect(rows[0].everything).not.toContain(token);
    // Nowhere else in the schema either.
    const [dump] = await db.sql`
      select coalesce(string_agg(x, ' '), '') as all_text from (
        select row_to_json(a)::text as x from drift_guard.audit_log a
        union all select row_to_json(m)::text from drift_guard.manifests m
        union all select row_to_json(t)::text from drift_guard.tokens t) s`;
    expect(dump.all_text).not.toContain(secret);
  });

  it("every token is different", async () => {
    const a = (await createToken(db.url, "read", "uniq-a")).token;
    const b = (await createToken(db.url, "read", "uniq-b")).token;
    expect(a).not.toBe(b);
    expect(a.slice(3, 15)).not.toBe(b.slice(3, 15));
  });

  it("a duplicate label: exit 2, a clear message, and no second row", async () => {
    await createToken(db.url, "read", "dup-label");
    const r = await runCli(["token", "create", "--db-url", db.url, "--scope", "repair", "--label", "dup-label"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('a token labelled "dup-label" already exists');
    expect(r.stdout).not.toMatch(/dg_[0-9a-f]{12}_/);
    const [row] = await db.sql`select count(*)::int as n from drift_guard.tokens where label = 'dup-label'`;
    expect(row.n).toBe(1);
  });

  it("an unknown scope or no label: exit 2", async () => {
    expect((await runCli(["token", "create", "--db-url", db.url, "--scope", "admin", "--label", "x"])).status).toBe(2);
    expect((await runCli(["token", "create", "--db-url", db.url, "--scope", "read"])).status).toBe(2);
    expect((await runCli(["token", "create", "--db-url", db.url, "--scope", "read", "--label", "   "])).status).toBe(2);
  });

  it("list shows labels and scopes, never secrets or hashes", async () => {
    const { token } = await createToken(db.url, "repair", "list-me");
    const [, , secret] = TOKEN.exec(token)!;
    const hashes = (await db.sql<{ secret_hash: string }[]>`select secret_hash from drift_guard.tokens`).map((r) => r.secret_hash);

    const text = await runCli(["token", "list", "--db-url", db.url]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/list-me\s+repair\s+active/);
    const json = await runCli(["token", "list", "--db-url", db.url, "--format", "json"]);
    expect(json.status).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(listed.find((t) => t.label === "list-me")).toMatchObject({ scope: "repair", status: "active", revoked_at: null });
    for (const out of [text.stdout, json.stdout]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain(token);
      for (const h of hashes) expect(out).not.toContain(h);
      expect(out).not.toContain("secret_hash");
    }
  });

  it("verifyToken accepts the token, rejects tampering, and records the use", async () => {
    const { token } = await createToken(db.url, "read", "verify-me");
    const [, publicId, secret] = TOKEN.exec(token)!;
    const flipped = secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A");
    const [ok, wrongSecret, wrongId, malformed, empty] = verify(db.url, [
      token,
      `dg_${publicId}_${flipped}`,
      `dg_000000000000_${secret}`,
      "Bearer nonsense",
      "",
    ]);
    expect(ok).toMatchObject({ label: "verify-me", scope: "read" });
    expect(ok!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect([wrongSecret, wrongId, malformed, empty]).toEqual([null, null, null, null]);
    const [row] = await db.sql`select last_used_at from drift_guard.tokens where label = 'verify-me'`;
    expect(row.last_used_at).toBeInstanceOf(Date);
  });

  it("revoke by label: exit 0, and the token stops verifying; revoking again is harmless", async () => {
    const { token } = await createToken(db.url, "deploy", "revoke-me");
    expect(verify(db.url, [token])[0]).toMatchObject({ label: "revoke-me" });

    const r = await runCli(["token", "revoke", "--db-url", db.url, "revoke-me"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("revoked");
    const [row] = await db.sql`select revoked_at from drift_guard.tokens where label = 'revoke-me'`;
    expect(row.revoked_at).toBeInstanceOf(Date);
    expect(verify(db.url, [token])).toEqual([null]);

    const again = await runCli(["token", "revoke", "--db-url", db.url, "revoke-me"]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("already revoked");

    const list = JSON.parse((await runCli(["token", "list", "--db-url", db.url, "--format", "json"])).stdout) as Array<Record<string, unknown>>;
    expect(list.find((t) => t.label === "revoke-me")).toMatchObject({ status: "revoked" });
  });

  it("revoke by id works too", async () => {
    await createToken(db.url, "read", "revoke-by-id");
    const [row] = await db.sql`select id from drift_guard.tokens where label = 'revoke-by-id'`;
    const r = await runCli(["token", "revoke", "--db-url", db.url, row.id]);
    expect(r.status, r.stderr).toBe(0);
    const [after] = await db.sql`select revoked_at from drift_guard.tokens where id = ${row.id}`;
    expect(after.revoked_at).not.toBeNull();
  });

  it("a decoy labelled with another token's id is never revoked in its place", async () => {
    await createToken(db.url, "repair", "victim");
    const [victim] = await db.sql`select id, public_id from drift_guard.tokens where label = 'victim'`;
    // The decoy is made directly in the database (the CLI now refuses id-shaped labels).
    await db.sql`select drift_guard.create_token(${victim.id}, 'read', 'dddddddddddd', ${"d".repeat(64)})`;
    await db.sql`select drift_guard.create_token(${victim.public_id}, 'read', 'eeeeeeeeeeee', ${"e".repeat(64)})`;
    for (const guess of [victim.id, victim.public_id]) {
      const bare = await runCli(["token", "revoke", "--db-url", db.url, guess]);
      expect(bare.status, bare.stderr).toBe(2);
      expect(bare.stderr).toMatch(/names 2 tokens/);
      expect(bare.stderr).toMatch(/--id ID, or --label LABEL/);
    }
    const revokedAt = async () => (await db.sql`select label, revoked_at from drift_guard.tokens where label in ('victim', ${victim.id}, ${victim.public_id}) order by label`)
      .map((r) => [r.label, r.revoked_at !== null]);
    expect(await revokedAt()).toEqual([[victim.public_id, false], [victim.id, false], ["victim", false]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
    const byId = await runCli(["token", "revoke", "--db-url", db.url, "--id", victim.id]);
    expect(byId.status, byId.stderr).toBe(0);
    expect(byId.stdout).toContain('revoked token "victim"');
    const byLabel = await runCli(["token", "revoke", "--db-url", db.url, "--label", victim.public_id]);
    expect(byLabel.status, byLabel.stderr).toBe(0);
    const [decoy] = await db.sql`select revoked_at from drift_guard.tokens where label = ${victim.id}`;
    expect(decoy.revoked_at).toBeNull();
    const [v] = await db.sql`select revoked_at from drift_guard.tokens where label = 'victim'`;
    expect(v.revoked_at).not.toBeNull();
  });

  it("revoke needs exactly one of --id, --label or the bare name; id-shaped labels are refused at create", async () => {
    expect((await runCli(["token", "revoke", "--db-url", db.url])).status).toBe(2);
    expect((await runCli(["token", "revoke", "--db-url", db.url, "--id", "x", "--label", "y"])).status).toBe(2);
    const r = await runCli(["token", "create", "--db-url", db.url, "--scope", "read", "--label", "0123456789ab"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/may not look like a token id/);
    expect((await runCli(["token", "revoke", "--db-url", db.url, "--label", "no-such-token"])).stderr).toContain('no token has the label "no-such-token"');
  });

  it("revoking an unknown token: exit 2", async () => {
    const r = await runCli(["token", "revoke", "--db-url", db.url, "no-such-token"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no token has the label or id "no-such-token"');
  });
});

describe("audit", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("audit_cli");
    const r = await runCli(["install", "--db-url", db.url]);
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(async () => db?.drop());

  it("is empty at first", async () => {
    const r = await runCli(["audit", "--db-url", db.url, "--format", "json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    expect((await runCli(["audit", "--db-url", db.url])).stdout).toContain("empty");
  });

  it("lists repairs and undos newest first, with their changes", async () => {
    const [{ d: d0 }] = await db.sql`select drift_guard.history_digest() as d`;
    const changes = [{ op: "insert", version: "20240101000000", name: "seed", statements: ["select 1"] }];
    const [{ r: repair }] = await db.sql`
      select drift_guard.apply_repair(${d0}, ${db.sql.json(changes)}, 'ran by hand', ${db.sql.json({ user: "alice", via: "cli" })},
        ${db.sql.json({ changes: [{ op: "insert", version: "20240101000000", name: "seed" }] })}) as r`;
    const [{ r: undo }] = await db.sql`select drift_guard.undo_repair(${repair.audit_id}::uuid, 'wrong database', '{"user":"bob"}'::jsonb) as r`;

    const r = await runCli(["audit", "--db-url", db.url, "--format", "json"]);
    expect(r.status, r.stderr).toBe(0);
    const entries = JSON.parse(r.stdout);
    expect(entries.map((e: { id: string }) => e.id)).toEqual([undo.audit_id, repair.audit_id]);
    expect(entries[1]).toMatchObject({
      kind: "repair",
      actor: { user: "alice", via: "cli" },
      reason: "ran by hand",
      digest_before: d0,
      digest_after: repair.history_digest,
      changes: [{ op: "insert", version: "20240101000000", name: "seed" }],
      undoes: null,
      undone_by: undo.audit_id,
    });
    expect(entries[0]).toMatchObject({
      kind: "undo",
      reason: "wrong database",
      undoes: repair.audit_id,
      undone_by: null,
      changes: [{ op: "delete", version: "20240101000000", name: "seed" }],
      digest_after: d0,
    });
    expect(new Date(entries[0].created_at).toISOString()).toBe(entries[0].created_at);

    const text = await runCli(["audit", "--db-url", db.url]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("ran by hand");
    expect(text.stdout).toContain("alice via cli");
    expect(text.stdout).toContain("insert 20240101000000 (seed)");
    expect(text.stdout.indexOf("wrong database")).toBeLessThan(text.stdout.indexOf("ran by hand"));
  });
});
