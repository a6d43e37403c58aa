/**
 * drift-guard: argument parsing and dispatch. Every command ends in one exit
 * code from the contract; every error names what to do next.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { readFileSync } from "node:fs";
import process from "node:process";
import { DriftGuardError, EXIT } from "../shared/types.ts";
import { databaseError, sqlState } from "../db/database_error.ts";
import { checkCommand } from "./check.ts";
import { manifestBuildCommand, manifestUploadCommand } from "./manifest_commands.ts";
import { DRIFT_STATES } from "../shared/types.ts";
import { chooseTarget, dbUrlOption, exitCodesHelp, functionUrlOption, migrationsOption, TARGET_RULE_HELP, tokenOption } from "./options.ts";
import { initCommand } from "./init_command.ts";
import { serveCommand } from "./serve_command.ts";
import { installCommand, auditCommand, tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from "./admin_commands.ts";
import { fetchCommand, repairCommand, undoCommand } from "./repair_commands.ts";
import { registerSchemaDiff } from "./schema_diff_command.ts";
import { visible } from "../shared/report_formats/text_escape.ts";
import { ledgerAckCommand, ledgerCommand } from "./ledger_commands.ts";
import { LEDGER_FILTERS } from "../shared/ledger.ts";
import { registerMcp } from "./commands/mcp.ts";
import { processMcpDeps } from "./process_deps.ts";

const env = process.env;
/** What --fail-on can name: the drift states, and `untracked` for DDL the ledger saw outside any migration. */
const DRIFT_FAIL_STATES = [...DRIFT_STATES.filter((s) => s !== "in_sync"), "untracked"];

/** `--fail-on a,b`: drift states only; anything else is a usage error (exit 2). */
function parseFailOn(value: string): string[] {
  const states = value.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = states.filter((s) => !(DRIFT_FAIL_STATES as readonly string[]).includes(s));
  if (states.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`expected drift states from ${DRIFT_FAIL_STATES.join(", ")}${unknown.length ? `, not ${unknown.map((u) => JSON.stringify(u)).join(", ")}` : ""}`);
  }
  return states;
}
const VERSION: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

const dbUrl = dbUrlOption;
const migrations = migrationsOption;
const fnUrl = functionUrlOption;
const fnToken = tokenOption;

let exitCode: number = EXIT.ok;
let jsonErrors = false;
const run = (fn: (opts: any, cmd: Command) => number | Promise<number>) => async (opts: any, cmd: Command) => {
  jsonErrors = opts.format === "json";
  exitCode = await fn(opts, cmd);
};

export function buildProgram(): Command {
  const program = new Command("drift-guard")
    .description("Detect and safely repair Supabase migration-history drift.")
    .version(VERSION, "-V, --version")
    .exitOverride()
    // Needed by `ledger` (whose flags would otherwise swallow `ledger ack`'s); the program has no options of its own to lose.
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `
Exit codes: 0 ok/in sync, 1 drift, 2 usage or bad input, 3 cannot reach or authenticate, 4 conflict.

Examples:
  $ drift-guard check --db-url "$SUPABASE_DB_URL"
  $ drift-guard check --format json > report.json
  $ drift-guard manifest build --out manifest.json`);

  program
    .command("check")
    .description("compare supabase/migrations with the database's migration history (read-only); exits 0 in sync, 1 on drift")
    .addOption(dbUrl())
    .addOption(fnUrl())
    .addOption(fnToken())
    .addOption(migrations())
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "markdown", "junit"]).default("text"))
    .option("--output <file>", "also write --format to FILE; the terminal gets text")
    .option("--no-evidence", "skip the evidence: replaying local-only migrations in the embedded shadow and comparing what they build with the live catalog")
    .addOption(new Option("--fail-on <states>", `drift states that exit 1, comma-separated (default: every drift state: ${DRIFT_FAIL_STATES.join(",")})`)
      .argParser(parseFailOn))
    .option("--since <when>", "untracked DDL since this ISO time or duration (7d, 24h); default: since the ledger was installed")
    .addHelpText("after", `
${TARGET_RULE_HELP}

--fail-on decides what fails CI. A pull request's own new migrations are pending until the deploy
applies them, so a pull-request check passes --fail-on remote_only,out_of_order,edited,renamed,untracked.
${exitCodesHelp([0, 1, 2, 3], "in sync (or drift only in states --fail-on leaves out)")}

Examples:
  $ drift-guard check --db-url postgresql://postgres:…@db.<ref>.supabase.co:5432/postgres
  $ drift-guard check --url https://<ref>.supabase.co/functions/v1/migration-drift --token "$DRIFT_GUARD_TOKEN"
  $ drift-guard check --fail-on remote_only,out_of_order,edited,renamed,untracked --format markdown --output report.md`)
    .action(run((opts, cmd) => checkCommand(chooseTarget(opts, cmd))));

  const manifest = program.command("manifest").description("build or upload the manifest of expected migrations")
    .addHelpText("after", `
Examples:
  $ drift-guard manifest build --out manifest.json
  $ drift-guard manifest upload --url "$DRIFT_GUARD_URL" --token "$DRIFT_GUARD_DEPLOY_TOKEN"`);
  manifest
    .command("build")
    .description("print (or write) the manifest: versions, names, checksums, statements, git commit and branch")
    .addOption(migrations())
    .option("--out <file>", "write to FILE instead of stdout")
    .addHelpText("after", `
Examples:
  $ drift-guard manifest build --out manifest.json
  $ drift-guard manifest build --migrations db/migrations > manifest.json`)
    .action(run(manifestBuildCommand));
  manifest
    .command("upload")
    .description("PUT the manifest to the function (deploy scope)")
    .addOption(fnUrl())
    .addOption(fnToken())
    .addOption(migrations())
    .addHelpText("after", `
Examples:
  $ drift-guard manifest upload --url "$DRIFT_GUARD_URL" --token "$DRIFT_GUARD_DEPLOY_TOKEN"`)
    .action(run(manifestUploadCommand));

  program
    .command("install")
    .description("create or upgrade the drift_guard schema (idempotent)")
    .addOption(dbUrl())
    .addHelpText("after", `
Examples:
  $ drift-guard install --db-url "$SUPABASE_DB_URL"`)
    .action(run(installCommand));

  program
    .command("fetch")
    .description("write remote-only migrations out as local files from their stored statements")
    .addOption(dbUrl())
    .addOption(migrations())
    .argument("[versions...]", "versions to fetch (default: every remote-only one)")
    .addHelpText("after", `
Examples:
  $ drift-guard fetch
  $ drift-guard fetch 20251025212010`)
    .action(async (versions: string[], opts: any, cmd: Command) => {
      exitCode = await fetchCommand({ ...opts, versions }, cmd);
    });

  program
    .command("repair")
    .description("plan (default) or apply a guarded history repair")
    .addOption(dbUrl())
    .addOption(migrations())
    .option("--mark-applied <versions...>", "record versions as applied, as `supabase migration repair --status applied` does")
    .option("--mark-reverted <versions...>", "delete history rows, as `supabase migration repair --status reverted` does")
    .option("--reason <text>", "why: kept in the audit log (required)")
    .option("--apply", "write the plan; requires --expect-digest with the dry run's plan digest")
    .option("--expect-digest <digest>", "the plan_digest of the dry run you reviewed: it pins the history and every change's content")
    .option("--expect-plan-digest <digest>", "the plan_digest, when --expect-digest gives the history_digest")
    .option("--force-different", "mark applied even migrations whose objects exist live with other definitions (after recording the live definitions in a new migration)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", `
Before --mark-applied records a local-only migration, what it builds (replayed in the embedded shadow)
is compared with the live database. A migration whose objects exist with other definitions is
"different": the plan lists each difference, and applying it needs --force-different, once a new
migration records the live definitions (drift-guard check prints that SQL).

Examples:
  $ drift-guard repair --mark-applied 004 008 --reason "ran by hand in 2024"
  $ drift-guard repair --mark-applied 004 008 --reason "ran by hand in 2024" --apply --expect-digest sha256:…   # the dry run's plan_digest`)
    .action(run(repairCommand));

  program
    .command("undo")
    .description("restore the history rows a repair changed (audited too)")
    .addOption(dbUrl())
    .requiredOption("--audit-id <id>", "the audit_id of the repair to undo")
    .option("--reason <text>", "why (required)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", `
Examples:
  $ drift-guard undo --audit-id 7f50813c-009a-41e3-9616-ec72f847c37a --reason "the SQL never ran after all"`)
    .action(run(undoCommand));

  program
    .command("audit")
    .description("the audit log, newest first")
    .addOption(dbUrl())
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", `
Examples:
  $ drift-guard audit
  $ drift-guard audit --format json`)
    .action(run(auditCommand));

  const token = program.command("token").description("manage API tokens for the function")
    .addHelpText("after", `
Examples:
  $ drift-guard token create --scope read --label github-pr
  $ drift-guard token list
  $ drift-guard token revoke github-pr`);
  token
    .command("create")
    .description("print a new token once, on the last line of stdout; only its hash is stored")
    .addOption(dbUrl())
    .addOption(new Option("--scope <scope>", "read < deploy < repair").choices(["read", "deploy", "repair"]).makeOptionMandatory())
    .requiredOption("--label <name>", "who or what uses it, e.g. github-ci")
    .addHelpText("after", `
Examples:
  $ drift-guard token create --scope read --label github-pr
  $ drift-guard token create --scope deploy --label github-deploy`)
    .action(run(tokenCreateCommand));
  token
    .command("list")
    .description("list tokens (never their secrets)")
    .addOption(dbUrl())
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", `
Examples:
  $ drift-guard token list
  $ drift-guard token list --format json`)
    .action(run(tokenListCommand));
  token
    .command("revoke")
    .description("revoke a token, named by --id or --label")
    .addOption(dbUrl())
    .option("--id <id>", "the token's id (uuid) or public id (the 12 hex digits after dg_)")
    .option("--label <label>", "the token's label")
    .argument("[label-or-id]", "accepted only when it names exactly one token; prefer --id or --label")
    .addHelpText("after", `
Examples:
  $ drift-guard token revoke --label github-pr
  $ drift-guard token revoke --id 3f2c…`)
    .action(async (which: string | undefined, opts: any, cmd: Command) => {
      exitCode = await tokenRevokeCommand({ ...opts, which }, cmd);
    });

  program
    .command("init")
    .description("set drift-guard up in a project made by `supabase init`: the function, its config.toml entry, the schema migration, a GitHub workflow")
    .option("--workdir <dir>", "the project directory (the one holding supabase/)", ".")
    .option("--dry-run", "list what would be written; write nothing")
    .option("--force", "also overwrite files someone edited since init wrote them")
    .addHelpText("after", `
Writes supabase/functions/migration-drift/ (self-contained: no import leaves the folder), adds
[functions.migration-drift] with verify_jwt = false to supabase/config.toml (every other line stays),
adds the drift_guard schema as a new migration in supabase/migrations, and writes
.github/workflows/migration-drift.yml. Run it again after upgrading drift-guard: it refreshes the
function and adds a migration only when the schema changed.

Examples:
  $ npx drift-guard init
  $ npx drift-guard init --dry-run`)
    .action(run((opts) => initCommand({ workdir: opts.workdir, dryRun: opts.dryRun, force: opts.force })));

  program
    .command("serve")
    .description("serve the project's supabase/functions/migration-drift locally with Deno (no Docker)")
    .addOption(dbUrl())
    .option("--workdir <dir>", "the project directory (the one holding supabase/)", ".")
    .addOption(new Option("--port <port>", "port on 127.0.0.1").env("PORT").default("54321"))
    .addHelpText("after", `
Serves http://127.0.0.1:PORT/functions/v1/migration-drift/<route>, the same routes as the deployed
function, reading the database at --db-url. Needs Deno (an optional dependency of drift-guard).

Examples:
  $ SUPABASE_DB_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres npx drift-guard serve
  $ curl http://127.0.0.1:54321/functions/v1/migration-drift/health`)
    .action(run((opts) => serveCommand(opts)));
  const ledger = program
    .command("ledger")
    .description("the DDL ledger: every schema change, who made it, when, from where, and whether a migration recorded it")
    // `ledger ack --db-url … --format json`: flags after `ack` are ack's, not the listing's.
    .enablePositionalOptions()
    .addOption(dbUrl())
    .option("--since <when>", "entries since this ISO time or duration (7d, 24h, 90m)")
    .option("--until <when>", "entries before this ISO time or duration")
    .option("--object <text>", "entries whose object identity contains TEXT, e.g. automation_rules")
    .addOption(new Option("--status <status>", "which entries").choices([...LEDGER_FILTERS]).default("all"))
    .option("--limit <n>", "at most N entries (the newest)", "1000")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "markdown"]).default("text"))
    .addHelpText("after", `
Examples:
  $ drift-guard ledger --status untracked --since 7d
  $ drift-guard ledger --object automation_rules --format json
  $ drift-guard ledger ack --id 41 42 --reason "hotfix, now in 20251020000000_hotfix.sql"`)
    .action(run(ledgerCommand));
  ledger
    .command("ack")
    .description("acknowledge untracked entries as reviewed (audited like a repair)")
    .addOption(dbUrl())
    .option("--id <ids...>", "ledger entry ids (drift-guard ledger lists them)")
    .option("--reason <text>", "why: kept in the audit log (required)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", `
Examples:
  $ drift-guard ledger ack --id 41 42 --reason "hotfix, now in 20251020000000_hotfix.sql"`)
    .action(run(ledgerAckCommand));

  registerSchemaDiff(program, run);
  registerMcp(program, run, () => processMcpDeps(VERSION));
  const exitCodes: Record<string, Array<0 | 1 | 2 | 3 | 4>> = {
    "manifest build": [0, 2],
    "manifest upload": [0, 2, 3],
    install: [0, 2, 3],
    fetch: [0, 2, 3],
    repair: [0, 2, 3, 4],
    undo: [0, 2, 3, 4],
    audit: [0, 2, 3],
    "token create": [0, 2, 3],
    "token list": [0, 2, 3],
    "token revoke": [0, 2, 3],
    init: [0, 2],
    serve: [0, 2, 3],
    ledger: [0, 2, 3],
    "ledger ack": [0, 2, 3],
  };
  for (const cmd of program.commands.flatMap((c) => [c, ...c.commands])) {
    const name = cmd.parent && cmd.parent !== program ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name();
    const codes = exitCodes[name] ?? (cmd.commands.length > 0 ? null : undefined);
    if (codes) cmd.addHelpText("after", exitCodesHelp(codes));
  }
  return program;
}

function report(err: DriftGuardError): void {
  if (jsonErrors) {
    process.stdout.write(JSON.stringify(err.toJSON(), null, 2) + "\n");
  }
  // Messages can quote input and database strings (versions, names, labels): escaped for the terminal.
  process.stderr.write(`drift-guard: ${visible(err.message)}\n${err.hint ? `hint: ${visible(err.hint)}\n` : ""}`);
}

/**
 * No path ends in Node's default exit 1 (the contract's "drift") with a stack.
 * postgres.js fetches array types when it connects without awaiting them: when
 * that query fails (a statement_timeout of 1 ms), the same error also fails the
 * query that opened the connection, which reports it; the copy nobody awaits is
 * dropped here. Anything else unexpected is reported and exits 3.
 */
function guardProcess(): void {
  const fatal = (err: unknown) => {
    if (env.DRIFT_GUARD_DEBUG) console.error(err);
    const error = err instanceof DriftGuardError || sqlState(err) ? databaseError(err) : new DriftGuardError("internal", `unexpected error: ${(err as Error)?.message ?? err}`, "please report this with DRIFT_GUARD_DEBUG=1 output");
    report(error);
    process.exit(error.exitCode);
  };
  process.on("unhandledRejection", (err) => {
    if (sqlState(err) && !(err instanceof DriftGuardError)) {
      if (env.DRIFT_GUARD_DEBUG) console.error("drift-guard: (debug) a database error nobody awaited:", err);
      return;
    }
    fatal(err);
  });
  process.on("uncaughtException", fatal);
}

export async function main(argv: string[]): Promise<number> {
  guardProcess();
  const program = buildProgram();
  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride();
    cmd.configureOutput({ writeErr: (s) => process.stderr.write(s.replace(/^error: /, "drift-guard: ")) });
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof DriftGuardError) {
      report(err);
      return err.exitCode;
    }
    const wrapped = new DriftGuardError("internal", `unexpected error: ${(err as Error)?.message ?? err}`, "please report this with DRIFT_GUARD_DEBUG=1 output");
    if (env.DRIFT_GUARD_DEBUG) console.error(err);
    report(wrapped);
    return wrapped.exitCode;
  }
}
