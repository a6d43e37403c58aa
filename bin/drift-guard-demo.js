#!/usr/bin/env node
/**
 * `npm run demo`: the 2025-10-27 migration-drift incident, replayed and repaired.
 *
 * No server and no set-up: "production" is an embedded Postgres (PGlite, Postgres
 * compiled to WebAssembly) served over the Postgres wire protocol by
 * @electric-sql/pglite-socket on 127.0.0.1:<free port>. Every step then runs the
 * real `drift-guard` CLI (bin/drift-guard.js, the same binary users run) against
 * postgresql://postgres@127.0.0.1:<port>/postgres, exactly as against a hosted
 * database: same connection code, same SQL, same guarded repair functions.
 *
 * The incident, as the seed write-up describes it:
 * - 78 migrations (20250828095134 … 20251025212010) were pushed to production
 *   from a branch that never reached git. The history table records them
 *   (version, name, statements, as `supabase db push` stores them), and their
 *   SQL ran. The repository has no files for them: `remote_only`.
 * - 11 legacy files (004, 008–012, 017–021) had their SQL pasted into the SQL
 *   editor by hand. Their tables exist; the history does not record them:
 *   `out_of_order`, and what they build is `identical` to what is live.
 * - One more legacy file (014) ran by hand too, but its function was changed by
 *   hand later: `different`. Marking it applied as it is would record a body that
 *   is not the live one; the fix is two steps (record the live definition in a new
 *   migration, then mark both applied with --force-different).
 * - The write-up then ran `supabase migration repair --status reverted` on the
 *   78, believing it meant "already applied". It DELETES the history rows.
 *
 * The demo shows what drift-guard reports, what the write-up's command would
 * have done (as a dry run), the evidence-based repair (fetch the 78, record the
 * live definition of 014, mark the 11, 014 and that record applied), applies it
 * guarded by the history digest, verifies, and undoes.
 *
 * Flags: --full prints every line of every command's output (by default long
 * runs of alike lines are shortened, and the shortening is marked).
 *
 * The incident's data lives in demo/incident.js, which tests/demo.test.ts checks
 * against the real Supabase CLI and bench/definition_evidence.ts seeds from.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = join(ROOT, "bin", "drift-guard.js");

// The incident's migrations live in demo/incident.js (shared with the test and the bench).
import { HAND_CHANGED_MIGRATION, HAND_CHANGES, LEGACY_MIGRATIONS, migrationFileText, REMOTE_MIGRATIONS, REMOTE_VERSIONS } from "../demo/incident.js";
export { HAND_CHANGED_MIGRATION, HAND_CHANGES, LEGACY_MIGRATIONS, migrationFileText, REMOTE_MIGRATIONS, REMOTE_VERSIONS };

/** Creates the history table exactly as the Supabase CLI does. */
const HISTORY_TABLE = [
  "create schema if not exists supabase_migrations",
  "create table if not exists supabase_migrations.schema_migrations (version text not null primary key)",
  "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
  "alter table supabase_migrations.schema_migrations add column if not exists name text",
];

/**
 * Builds "production" on a PGlite instance: the 78 migrations run and recorded
 * the way `db push` does, each in its own transaction (the legacy SQL comes
 * after the legacy SQL, which runLegacyByHand runs by hand).
 */
export async function seedProduction(db) {
  await db.exec("set application_name = '@effect/sql-pg'"); // as the Supabase CLI's db push connects
  for (const s of HISTORY_TABLE) await db.exec(s);
  for (const m of REMOTE_MIGRATIONS) {
    await db.transaction(async (tx) => {
      for (const s of m.statements) await tx.exec(s);
      await tx.query("insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)", [m.version, m.name, m.statements]);
    });
  }
  await db.exec("reset application_name");
}

/**
 * The legacy SQL pasted by hand, as the incident had it: one file at a time, in a
 * session of its own (application_name "psql"), no history row. With drift-guard
 * installed, its DDL ledger records each command: who, when, from where.
 */
export async function runLegacyByHand(db) {
  await db.exec("set application_name = 'psql'");
  try {
    // psql sends each statement of a pasted file on its own.
    for (const m of [...LEGACY_MIGRATIONS, HAND_CHANGED_MIGRATION]) for (const statement of m.statements) await db.exec(statement);
    // Later, someone changed one of those definitions by hand, again outside any migration.
    for (const s of HAND_CHANGES) await db.exec(s);
  } finally {
    await db.exec("reset application_name");
  }
}

// ---------------------------------------------------------------------------
// Presentation
// ---------------------------------------------------------------------------

// The CLI's own: colour only on a terminal and never under NO_COLOR, and commands quoted as it prints them.
if (!existsSync(join(ROOT, "dist", ".build-stamp"))) await (await import(pathToFileURL(join(ROOT, "scripts", "build.mjs")).href)).buildAll();
const { shellArg, terminalStyle } = await import(pathToFileURL(join(ROOT, "dist", "cli.js")).href);
const { bold, dim, cyan } = terminalStyle(process.stdout, process.env);

/** Shortens runs of more than `max` 14-digit versions inside one line (marked). */
function shortenVersionRuns(line, max = 6) {
  return line.replace(/\b\d{14}(?: \d{14}){6,}\b/g, (run) => {
    const v = run.split(" ");
    if (v.length <= max) return run;
    return `${v.slice(0, 3).join(" ")} …[${v.length - 4} more]… ${v.at(-1)}`;
  });
}

/** Shortens runs of more than 8 consecutive lines matching `re` to their first 3 and last 2 (marked). */
function collapseRuns(lines, re) {
  const out = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j < lines.length && re.test(lines[j])) j++;
    if (j - i > 8) {
      const indent = /^\s*/.exec(lines[i])[0];
      out.push(...lines.slice(i, i + 3), dim(`${indent}⋮ ${j - i - 5} more like these (npm run demo -- --full shows every line)`), ...lines.slice(j - 2, j));
      i = j;
    } else if (j > i) {
      out.push(...lines.slice(i, j));
      i = j;
    } else {
      out.push(lines[i++]);
    }
  }
  return out;
}

/** File names in columns, as `ls` lays them out on an 88-column terminal. */
function lsColumns(names, width = 88) {
  const colWidth = Math.max(...names.map((n) => n.length)) + 2;
  const cols = Math.max(1, Math.floor((width + 2) / colWidth));
  const rows = Math.ceil(names.length / cols);
  const lines = [];
  for (let r = 0; r < rows; r++) {
    const cells = [];
    for (let c = 0; c < cols && c * rows + r < names.length; c++) cells.push(names[c * rows + r].padEnd(colWidth));
    lines.push(cells.join("").trimEnd());
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------

export async function runDemo({ full = false, write = (s) => process.stdout.write(s) } = {}) {
  const started = Date.now();
  const say = (s = "") => write(`${s}\n`);
  const wrap = (text) => {
    // Narration, wrapped at 88 columns and indented by two.
    const words = text.split(/\s+/);
    const lines = [];
    let line = "";
    for (const w of words) {
      if (line && line.length + 1 + w.length > 86) {
        lines.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    if (line) lines.push(line);
    for (const l of lines) say(`  ${l}`);
  };
  const note = (text) => {
    say();
    wrap(text);
  };
  let stepNo = 0;
  const step = (heading) => {
    stepNo++;
    say();
    say(bold(cyan(`── ${stepNo}. ${heading} ${"─".repeat(Math.max(3, 76 - heading.length))}`)));
  };

  const failures = [];
  const work = mkdtempSync(join(tmpdir(), "drift-guard-demo-"));
  const migrationsDir = join(work, "supabase", "migrations");
  mkdirSync(migrationsDir, { recursive: true });

  let db;
  let server;
  const cleanup = async () => {
    if (server) await server.stop().catch(() => {});
    if (db) await db.close().catch(() => {});
    server = undefined;
    db = undefined;
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    say(bold("drift-guard demo: the 2025-10-27 migration-drift incident, replayed and repaired"));
    // "Production": embedded Postgres, reached over TCP like any other database.
    const { PGlite } = await import("@electric-sql/pglite");
    const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
    const t0 = Date.now();
    db = await PGlite.create();
    const version = (await db.query("select version()")).rows[0].version;
    const engine = /^PostgreSQL [0-9.]+ \(PGlite [^)]*\)/.exec(version)?.[0] ?? "PGlite";
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0 });
    await server.start();
    const port = Number(server.getServerConn().split(":").at(-1));
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    say(dim(`"production" is ${engine}, Postgres compiled to WebAssembly, served on ${url}, started in ${((Date.now() - t0) / 1000).toFixed(1)} s.`));
    say(dim(`Every $ line below runs the real CLI (bin/drift-guard.js) in ${work}; nothing is left behind.`));

    const env = { ...process.env, SUPABASE_DB_URL: url };
    delete env.DRIFT_GUARD_URL;
    delete env.DRIFT_GUARD_TOKEN;

    const waitIdle = async () => {
      for (let i = 0; i < 200 && server.getStats().activeConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    };

    /** Runs the CLI to completion (one connection at a time), shows `$ command`, its output and exit code. */
    const cli = (args, { expect = 0, shown, collapse } = {}) =>
      new Promise((done, fail) => {
        const display = shown ?? `drift-guard ${args.map(shellArg).join(" ")}`;
        say();
        say(bold(`$ ${full ? display : shortenVersionRuns(display)}`));
        const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", fail);
        child.on("close", (code) => {
          let lines = (stdout + stderr).replace(/\n$/, "").split("\n");
          if (!full) {
            if (collapse) lines = collapseRuns(lines, collapse);
            lines = lines.map((l) => shortenVersionRuns(l));
          }
          if (stdout + stderr) say(lines.join("\n"));
          const meaning = { 0: "ok", 1: "drift", 2: "usage or bad input", 3: "cannot reach the database", 4: "conflict" }[code] ?? "?";
          say(dim(`[exit ${code}: ${meaning}]`));
          if (code !== expect) failures.push(`${display}: exit ${code}, expected ${expect}`);
          // pglite-socket serves one connection at a time: let the server see this one close.
          waitIdle().then(() => done({ code, stdout, stderr }), fail);
        });
      });

    step("The scene");
    wrap(`Production's history table records ${REMOTE_MIGRATIONS.length} migrations (${REMOTE_VERSIONS[0]} … ${REMOTE_VERSIONS.at(-1)}) pushed from a branch that never reached git: their SQL ran, the repository has no files for them.`);
    wrap(`The repository has ${LEGACY_MIGRATIONS.length + 1} legacy files whose SQL was pasted into the SQL editor by hand: their tables (automation_rules, automation_feedback, automation_history, …) exist, but the history does not record them. One of them, ${HAND_CHANGED_MIGRATION.fileName}, was changed by hand again later in production.`);
    for (const m of [...LEGACY_MIGRATIONS, HAND_CHANGED_MIGRATION]) writeFileSync(join(migrationsDir, m.fileName), migrationFileText(m.statements));
    say();
    say(bold("$ ls supabase/migrations"));
    say(lsColumns(readdirSync(migrationsDir).sort()));
    say();
    say(bold(`$ export SUPABASE_DB_URL=${url}`));

    step("Install drift-guard's schema (audit log, guarded repair functions, DDL ledger)");
    await cli(["install"]);

    step("Replay the incident, with drift-guard's DDL ledger watching");
    wrap(`Someone pastes the ${LEGACY_MIGRATIONS.length} legacy files into psql by hand: their SQL runs, no history row is written. Then the ${REMOTE_MIGRATIONS.length} migrations of the branch that never reached git are pushed the way \`supabase db push\` runs them: each file and its history row in one transaction. The ledger's event trigger records every command as it runs.`);
    const t1 = Date.now();
    await runLegacyByHand(db);
    await seedProduction(db);
    say(dim(`(${LEGACY_MIGRATIONS.reduce((n, m) => n + m.statements.length, 0)} statements by hand in a psql session, ${REMOTE_MIGRATIONS.length} migrations pushed, in ${((Date.now() - t1) / 1000).toFixed(1)} s)`));

    step("Check: what drifted, and what the catalog says about it");
    const first = await cli(["check"], { expect: 1, collapse: /^\d{14}\s+remote_only\s/ });
    const summary = (s) => /remote_only (\d+)/.exec(s)?.[1] + " remote_only, " + /out_of_order (\d+)/.exec(s)?.[1] + " out_of_order";
    const legacyCount = LEGACY_MIGRATIONS.length + 1;
    if (!/remote_only 78\b/.test(first.stdout) || !new RegExp(`out_of_order ${legacyCount}\\b`).test(first.stdout)) failures.push(`first check: expected 78 remote_only and ${legacyCount} out_of_order, got ${summary(first.stdout)}`);
    if ((first.stdout.match(/^0\d\d\s+out_of_order\s+\w+\s+identical\b/gm) ?? []).length !== LEGACY_MIGRATIONS.length) failures.push(`first check: expected ${LEGACY_MIGRATIONS.length} identical legacy files`);
    if (!/^014\s+out_of_order\s+\w+\s+different\b/m.test(first.stdout)) failures.push("first check: expected 014 to be different");
    note(`Two kinds of drift. The ${REMOTE_MIGRATIONS.length} remote_only rows ran on the database and need files. For the ${legacyCount} out_of_order files, drift-guard replayed each in an embedded shadow database and compared what it builds with the live catalog, definition by definition: ${LEGACY_MIGRATIONS.length} are "identical" (their SQL ran; only the history row is missing). ${HAND_CHANGED_MIGRATION.fileName} is "different": its function exists, but with another body, because someone changed it by hand later. Marking it applied as it is would record a definition production does not have.`);

    step("The ledger: who ran the legacy files by hand, and when");
    wrap(`Months later nobody could say who ran them, when, or from where. The ledger can: each command, its session user, application and client address, and that no migration recorded it (untracked).`);
    const ledger = await cli(["ledger", "--status", "untracked", "--object", "automation_rules"]);
    if (!/untracked\s+CREATE TABLE\s+public\.automation_rules\s+postgres via psql/.test(ledger.stdout)) failures.push("the ledger should show who created public.automation_rules by hand");

    step("What the incident write-up ran instead (as a dry run)");
    wrap(`The write-up "marked the 78 remote-only migrations as reverted (already applied)" with \`supabase migration repair --status reverted\`. That is backwards: --status reverted DELETES the history row. The SQL stays in the database, the history forgets that it ran, and if those files ever reach the repository, \`db push\` runs them a second time. drift-guard's --mark-reverted has the CLI's exact meaning; its dry run shows it (nothing is written):`);
    const seedVersions = REMOTE_VERSIONS.slice(0, 3);
    const reverted = await cli(["repair", "--mark-reverted", ...seedVersions, "--reason", "as in the 2025-10-27 write-up"]);
    if ((reverted.stdout.match(/^\s+delete\s+\d{14}/gm) ?? []).length !== 3) failures.push("the --mark-reverted dry run should plan 3 deletes");
    note(`Three deletes for three versions. For all 78 it would have erased the record of everything that ran in production, and \`supabase migration list\` would then look clean: not because the history was reconciled, but because 78 rows were gone (which matches the write-up's "no mismatches"). Not applied here.`);

    step(`Fetch the ${REMOTE_MIGRATIONS.length} remote-only migrations into files`);
    wrap(`Their statements are stored in the history, so they can be written out as files, reviewed and committed.`);
    const fetched = await cli(["fetch"], { collapse: /^wrote supabase\/migrations\// });
    if (!new RegExp(`^${REMOTE_MIGRATIONS.length} file\\(s\\) written`, "m").test(fetched.stdout)) failures.push(`fetch should write ${REMOTE_MIGRATIONS.length} files`);

    const second = await cli(["check"], { expect: 1 });
    if (!/in_sync 78\b/.test(second.stdout) || !new RegExp(`out_of_order ${legacyCount}\\b`).test(second.stdout)) failures.push(`after fetch: expected 78 in_sync and ${legacyCount} out_of_order`);

    step(`${HAND_CHANGED_MIGRATION.fileName} differs from production: record what production has first`);
    const liveFile = /The live definitions, to save as (\S+):/.exec(second.stdout)?.[1];
    const liveVersion = liveFile && /(\d{14})_record_live_definitions_/.exec(liveFile)?.[1];
    if (!liveFile || !liveVersion) throw new Error("check did not print the live definitions of the different file");
    const printed = second.stdout.slice(second.stdout.indexOf(`The live definitions, to save as ${liveFile}:`)).split("\n").slice(1);
    const liveSql = printed.slice(0, printed.findIndex((l) => !l.startsWith("        "))).map((l) => l.slice(8)).join("\n") + "\n";
    wrap(`Step 1 of 2: save the SQL check printed, which records the function as production has it, as a new migration. It is newer than everything applied, so replaying the migrations in order now builds what production has.`);
    say();
    say(bold(`$ # save the SQL above as ${liveFile}`));
    writeFileSync(join(work, liveFile), liveSql);
    wrap(`Step 2 of 2: mark the ${LEGACY_MIGRATIONS.length} identical files, ${HAND_CHANGED_MIGRATION.version} and the new ${liveVersion} applied (production already has all of it). Planned without --force-different, the plan names the difference and refuses to be applied:`);
    const legacyVersions = [...LEGACY_MIGRATIONS.map((m) => m.version), HAND_CHANGED_MIGRATION.version, liveVersion];
    const reason = "SQL ran by hand in the SQL editor; drift-guard check compared every definition";
    const refused = await cli(["repair", "--mark-applied", ...legacyVersions, "--reason", reason]);
    if (!/^Not applicable as is: 014 /m.test(refused.stdout)) failures.push("the plan without --force-different should refuse 014");

    step(`Plan: mark them applied (not reverted), with --force-different for ${HAND_CHANGED_MIGRATION.version}`);
    wrap(`Recorded as applied: version, name and the file's statements, exactly as \`supabase migration repair --status applied\` records them. No SQL runs. Without --apply this is a dry run against the current history digest.`);
    const plan = await cli(["repair", "--mark-applied", ...legacyVersions, "--force-different", "--reason", reason]);
    const planned = /^Plan \(dry run, nothing written\) against history (sha256:[0-9a-f]{64})$/m.exec(plan.stdout)?.[1];
    const plannedPlan = /--apply --expect-digest (sha256:[0-9a-f]{64})/.exec(plan.stdout)?.[1];
    const applyLine = /^\s*(drift-guard repair .* --apply --expect-digest sha256:[0-9a-f]{64})\s*$/m.exec(plan.stdout)?.[1];
    if (!planned || !plannedPlan || !applyLine) throw new Error("the dry run did not print the command to apply it");

    step("Apply exactly the reviewed plan");
    wrap(`The command the dry run printed. It applies only if the history digest is still the one the plan was made against and the plan digest (every change's version, name and statement checksum) is still the one reviewed; the change and the rows before it go into the audit log.`);
    const applyArgs = ["repair", "--mark-applied", ...legacyVersions, "--force-different", "--reason", reason, "--apply", "--expect-digest", plannedPlan];
    const applied = await cli(applyArgs, { shown: applyLine });
    const auditId = /Audit id: ([0-9a-f-]{36})/.exec(applied.stdout)?.[1];
    const digestAfter = /History is now (sha256:[0-9a-f]{64})/.exec(applied.stdout)?.[1];
    if (!auditId || !digestAfter) throw new Error("the apply did not print an audit id and the new digest");

    note(`The repair also linked the ledger's untracked entries for the objects these files create to their versions and to this repair's audit id: the check below has no untracked changes left.`);

    step("Verify");
    const third = await cli(["check"]);
    if (!/^in sync: 91 migration\(s\) match the history/m.test(third.stdout)) failures.push("after the repair: expected in sync, 91 migrations");
    note(`Running the same apply again is refused: the history is no longer the one that plan was reviewed against.`);
    await cli(applyArgs, { shown: applyLine, expect: 4 });

    step("Undo: every repair can be reversed");
    const undone = await cli(["undo", "--audit-id", auditId, "--reason", "demo: show that a repair can be reversed"]);
    const digestUndone = /History is now (sha256:[0-9a-f]{64})/.exec(undone.stdout)?.[1];
    say();
    if (digestUndone === planned) {
      say(`  ✓ the history digest is back to ${planned},`);
      say(`    the one the repair was planned against (it was ${digestAfter} after the repair).`);
    } else {
      failures.push(`undo should restore digest ${planned}, got ${digestUndone}`);
    }
    await cli(["audit"]);
    await cli(["check"], { expect: 1 });

    say();
    say(bold(failures.length ? "Demo finished with unexpected results:" : `Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
    for (const f of failures) say(`  ✗ ${f}`);
    if (!failures.length) {
      wrap(`In a real project: commit the fetched files, run the same repair with your own reason, and add .github/workflows/migration-drift.yml so that drift fails a pull request instead of surfacing months later.`);
    }
    return failures.length ? 1 : 0;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const unknown = process.argv.slice(2).filter((a) => a !== "--full");
  if (unknown.length) {
    process.stderr.write(`drift-guard-demo: unknown argument ${unknown[0]}\nusage: npm run demo [-- --full]\n`);
    process.exit(2);
  }
  runDemo({ full: process.argv.includes("--full") }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`drift-guard-demo: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
