/**
 * drift-guard: the table of commands, the deps built from the process once, and
 * the one function that turns an error into output and an exit code.
 *
 * A command is one module under cli/commands/ (its definition and `run`); adding
 * one is that file plus one line in COMMANDS. Only the module a command line
 * names is loaded, so `check` never loads PGlite or another command's code.
 */
import { Command, CommanderError, type Option } from "commander";
import { inspect } from "node:util";
import { databaseError, sqlState } from "../db/database_error.ts";
import { visible } from "../shared/report_formats/text_escape.ts";
import { DriftGuardError, EXIT, EXIT_MEANINGS, OUTCOMES } from "../shared/types.ts";
import { type CommandModule, examplesHelp, exitCodesHelp } from "./command.ts";
import type { CliDeps } from "./deps.ts";
import { Interrupted } from "./interrupt.ts";
import { chooseTarget, ENV_FALLBACKS } from "./options.ts";
import { VERSION } from "./version.ts";

/** Every command, by the words that name it. */
// For bin/drift-guard-demo.js, which prints commands and colours the way the CLI does.
export { shellArg } from "../shared/shell_arg.ts";
export { terminalStyle } from "./terminal.ts";

export const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  "check": () => import("./commands/check.ts"),
  "manifest build": () => import("./commands/manifest_build.ts"),
  "manifest upload": () => import("./commands/manifest_upload.ts"),
  "install": () => import("./commands/install.ts"),
  "fetch": () => import("./commands/fetch.ts"),
  "repair": () => import("./commands/repair.ts"),
  "undo": () => import("./commands/undo.ts"),
  "audit": () => import("./commands/audit.ts"),
  "token create": () => import("./commands/token_create.ts"),
  "token list": () => import("./commands/token_list.ts"),
  "token revoke": () => import("./commands/token_revoke.ts"),
  "init": () => import("./commands/init.ts"),
  "serve": () => import("./commands/serve.ts"),
  "ledger": () => import("./commands/ledger.ts"),
  "ledger ack": () => import("./commands/ledger_ack.ts"),
  "schema-diff": () => import("./commands/schema_diff.ts"),
  "mcp": () => import("./commands/mcp.ts"),
};

/** Words that only group subcommands. */
const GROUPS: Record<string, { description: string; examples: string[] }> = {
  manifest: {
    description: "build or upload the manifest of expected migrations",
    examples: ["drift-guard manifest build --out manifest.json", 'drift-guard manifest upload --url "$DRIFT_GUARD_URL" --token "$DRIFT_GUARD_DEPLOY_TOKEN"'],
  },
  token: {
    description: "manage API tokens for the function",
    examples: ["drift-guard token create --scope read --label github-pr", "drift-guard token list", "drift-guard token revoke github-pr"],
  },
};

/** Help's width off a terminal (a pipe, a test, docs/cli.md): commander's own default. */
const HELP_WIDTH = 80;

const PROGRAM_EXAMPLES = ['drift-guard check --db-url "$SUPABASE_DB_URL"', "drift-guard check --format json > report.json", "drift-guard manifest build --out manifest.json"];

/** The commands a command line needs: the one it names (with its subcommands), or all of them for the top-level help. */
function wanted(argv: readonly string[]): string[] {
  const words = argv.filter((a) => !a.startsWith("-"));
  const [first, second] = words;
  const names = Object.keys(COMMANDS);
  if (first === undefined || !names.some((n) => n === first || n.startsWith(`${first} `))) return names;
  if (second !== undefined && COMMANDS[`${first} ${second}`]) return names.filter((n) => n === first || n === `${first} ${second}`);
  return names.filter((n) => n === first || n.startsWith(`${first} `));
}

/** What one run of the CLI decided: the exit code, and whether errors print as JSON. */
interface RunState {
  exitCode: number;
  jsonErrors: boolean;
  /** The loaded command ends itself on a signal (serve). */
  ownsSignals: boolean;
}

function register(program: Command, mod: CommandModule, deps: CliDeps, state: RunState): void {
  const def = mod.definition;
  const words = def.name.split(" ");
  let parent = program;
  for (const word of words.slice(0, -1)) {
    parent = parent.commands.find((c) => c.name() === word) ?? group(parent, word);
  }
  const leafName = words.at(-1)!;
  // A command that is also a group (ledger, with ledger ack) may exist already, made as a group.
  const cmd = parent.commands.find((c) => c.name() === leafName) ?? parent.command(leafName);
  cmd.description(def.description);
  for (const option of def.options?.() ?? []) cmd.addOption(option as Option);
  if (def.argument) cmd.argument(def.argument.spec, def.argument.description);
  if (def.positionalOptions) cmd.enablePositionalOptions();
  cmd.addHelpText("after", `${def.help ? `\n${def.help}\n` : ""}${exitCodesHelp(def)}\n${examplesHelp(def.examples)}\n`);
  cmd.action(async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const opts: Record<string, unknown> = { ...command.opts() };
    if (def.argument) opts[def.argument.key] = args[0];
    const typed = new Set<string>();
    for (const key of Object.keys(opts)) if (command.getOptionValueSource(key) === "cli") typed.add(key);
    for (const [key, variable] of Object.entries(ENV_FALLBACKS)) {
      const declared = command.options.some((o) => o.attributeName() === key);
      if (declared && !typed.has(key) && deps.env[variable] !== undefined) opts[key] = deps.env[variable];
    }
    const chosen = def.target ? chooseTarget(opts as { dbUrl?: string; url?: string }, (key) => typed.has(key)) : opts;
    state.jsonErrors = opts.format === "json";
    state.ownsSignals = def.ownsSignals === true;
    state.exitCode = await mod.run(deps, chosen);
  });
}

function group(parent: Command, word: string): Command {
  const meta = GROUPS[word];
  const cmd = parent.command(word);
  if (meta) cmd.description(meta.description).addHelpText("after", `${examplesHelp(meta.examples)}\n`);
  return cmd;
}

/**
 * The commander program for `argv`, with the commands it names registered.
 * @example (await buildProgram(["check", "--help"], deps, state)).parseAsync(["check", "--help"], { from: "user" })
 */
async function buildProgram(argv: readonly string[], deps: CliDeps, state: RunState): Promise<Command> {
  const summary = Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `${code} ${meaning}`).join(", ");
  const program = new Command("drift-guard")
    .description("Detect and safely repair Supabase migration-history drift.")
    .version(VERSION, "-V, --version")
    // Needed by `ledger` (whose flags would otherwise swallow `ledger ack`'s); the program has no options of its own to lose.
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `\nExit codes: ${summary}.\n${examplesHelp(PROGRAM_EXAMPLES)}\n`);
  const names = wanted(argv);
  const modules = await Promise.all(names.map((n) => COMMANDS[n]()));
  for (const mod of modules) register(program, mod, deps, state);
  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => deps.stdout.write(s),
      writeErr: (s) => deps.stderr.write(s.replace(/^error: /, "drift-guard: ")),
      getOutHelpWidth: () => deps.stdout.columns ?? HELP_WIDTH,
      getErrHelpWidth: () => deps.stderr.columns ?? HELP_WIDTH,
    });
  }
  return program;
}

/**
 * The one place an error becomes output and an exit code: a DriftGuardError as
 * its message and hint (and JSON on stdout under --format json), a signal as
 * OUTCOMES.interrupted, anything else as `internal`.
 *
 * @example reportError(new DriftGuardError("usage", "missing --reason"), deps, false) // 2
 */
export function reportError(err: unknown, deps: Pick<CliDeps, "stdout" | "stderr" | "env">, jsonErrors: boolean): number {
  if (err instanceof CommanderError) {
    return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof Interrupted) return OUTCOMES.interrupted.exit;
  if (deps.env.DRIFT_GUARD_DEBUG && !(err instanceof DriftGuardError)) deps.stderr.write(inspect(err) + "\n");
  const error = err instanceof DriftGuardError
    ? err
    : sqlState(err)
    ? databaseError(err)
    : new DriftGuardError("internal", `unexpected error: ${(err as Error)?.message ?? err}`, "please report this with DRIFT_GUARD_DEBUG=1 output");
  if (jsonErrors) deps.stdout.write(JSON.stringify(error.toJSON(), null, 2) + "\n");
  // Messages can quote input and database strings (versions, names, labels): escaped for the terminal.
  deps.stderr.write(`drift-guard: ${visible(error.message)}\n${error.hint ? `hint: ${visible(error.hint)}\n` : ""}`);
  return error.exitCode;
}

/**
 * Parses `argv`, runs the command it names with `deps`, and returns the exit code.
 * Touches nothing outside `deps`: tests call it in-process.
 *
 * @example await runCli(["check", "--format", "json"], deps) // 0 in sync, 1 drift
 */
export async function runCli(argv: readonly string[], deps: CliDeps, onStart?: (state: Readonly<RunState>) => void): Promise<number> {
  const state: RunState = { exitCode: EXIT.ok, jsonErrors: false, ownsSignals: false };
  try {
    const program = await buildProgram(argv, deps, state);
    onStart?.(state);
    await program.parseAsync([...argv], { from: "user" });
    return state.exitCode;
  } catch (err) {
    return reportError(err, deps, state.jsonErrors);
  }
}

/**
 * The process's CLI: deps from the process, signals into `deps.signal`, and no
 * path that ends in Node's default exit 1 (the contract's "drift") with a stack.
 *
 * @example process.exit(await main(process.argv.slice(2)))
 */
export async function main(argv: string[]): Promise<number> {
  const { nodeDeps } = await import("./node_deps.ts");
  const controller = new AbortController();
  const deps = nodeDeps(controller.signal);
  let state: Readonly<RunState> = { exitCode: EXIT.ok, jsonErrors: false, ownsSignals: false };
  for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(name, () => {
      // Listeners (a repair's "may have committed" warning, serve's forwarding) run inside abort().
      controller.abort(name);
      if (!state.ownsSignals) process.exit(OUTCOMES.interrupted.exit);
    });
  }
  guardProcess(deps, () => state.jsonErrors);
  return await runCli(argv, deps, (s) => (state = s));
}

/**
 * postgres.js fetches array types when it connects without awaiting them: when
 * that query fails (a statement_timeout of 1 ms), the same error also fails the
 * query that opened the connection, which reports it; the copy nobody awaits is
 * dropped here. Anything else unexpected is reported and exits 3.
 */
function guardProcess(deps: CliDeps, jsonErrors: () => boolean): void {
  const fatal = (err: unknown) => process.exit(reportError(err, deps, jsonErrors()));
  process.on("unhandledRejection", (err) => {
    if (sqlState(err) && !(err instanceof DriftGuardError)) {
      if (deps.env.DRIFT_GUARD_DEBUG) deps.stderr.write(`drift-guard: (debug) a database error nobody awaited: ${inspect(err)}\n`);
      return;
    }
    fatal(err);
  });
  process.on("uncaughtException", fatal);
}
