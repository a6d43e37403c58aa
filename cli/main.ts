/**
 * drift-guard: argument parsing and dispatch. Every command ends in one exit
 * code from the contract; every error names what to do next.
 */
import { Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import process from "node:process";
import { DriftGuardError, EXIT } from "../shared/types.ts";
import { checkCommand } from "./check.ts";
import { manifestBuildCommand, manifestUploadCommand } from "./manifest_commands.ts";
import { DEFAULT_MIGRATIONS_DIR } from "../shared/drift.ts";
import { installCommand, auditCommand, tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from "./admin_commands.ts";
import { fetchCommand, repairCommand, undoCommand } from "./repair_commands.ts";
import { registerSchemaDiff } from "./schema_diff_command.ts";

const env = process.env;
const VERSION: string = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;

const dbUrl = () => new Option("--db-url <url>", "database URL (default: $SUPABASE_DB_URL)").default(env.SUPABASE_DB_URL, "$SUPABASE_DB_URL");
const migrations = () => new Option("--migrations <dir>", "migrations directory").default(DEFAULT_MIGRATIONS_DIR);
const fnUrl = () => new Option("--url <url>", "function URL (default: $DRIFT_GUARD_URL)").default(env.DRIFT_GUARD_URL, "$DRIFT_GUARD_URL");
const fnToken = () => new Option("--token <token>", "token (default: $DRIFT_GUARD_TOKEN)").default(env.DRIFT_GUARD_TOKEN, "$DRIFT_GUARD_TOKEN");

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
    .addHelpText("after", `
Examples:
  $ drift-guard check --db-url postgresql://postgres:…@db.<ref>.supabase.co:5432/postgres
  $ drift-guard check --url https://<ref>.supabase.co/functions/v1/migration-drift --token "$DRIFT_GUARD_TOKEN"
  $ drift-guard check --format markdown --output report.md`)
    .action(run(checkCommand));

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
    .option("--apply", "write the plan; requires --expect-digest")
    .option("--expect-digest <digest>", "the history_digest the plan was made against")
    .option("--force-different", "mark applied even migrations whose objects exist live with other definitions (after recording the live definitions in a new migration)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText("after", `
Before --mark-applied records a local-only migration, what it builds (replayed in the embedded shadow)
is compared with the live database. A migration whose objects exist with other definitions is
"different": the plan lists each difference, and applying it needs --force-different, once a new
migration records the live definitions (drift-guard check prints that SQL).

Examples:
  $ drift-guard repair --mark-applied 004 008 --reason "ran by hand in 2024"
  $ drift-guard repair --mark-applied 004 008 --reason "ran by hand in 2024" --apply --expect-digest sha256:…`)
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
    .description("revoke a token by label or id")
    .addOption(dbUrl())
    .argument("<label-or-id>")
    .addHelpText("after", `
Examples:
  $ drift-guard token revoke github-pr`)
    .action(async (which: string, opts: any, cmd: Command) => {
      exitCode = await tokenRevokeCommand({ ...opts, which }, cmd);
    });

  registerSchemaDiff(program, run);
  return program;
}

function report(err: DriftGuardError): void {
  if (jsonErrors) {
    process.stdout.write(JSON.stringify(err.toJSON(), null, 2) + "\n");
  }
  process.stderr.write(`drift-guard: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ""}`);
}

export async function main(argv: string[]): Promise<number> {
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
