/**
 * What a command module under cli/commands/ exports: its definition (options,
 * help, examples, exit codes) and `run(deps, options)`. cli/main.ts turns the
 * definition into a commander command and calls `run` with what was parsed.
 */
import type { Option } from "commander";
import type { CliDeps } from "./deps.ts";
import { EXIT, EXIT_MEANINGS } from "../shared/types.ts";

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CommandDefinition {
  /** As typed: "check", "manifest build", "ledger ack". */
  name: string;
  description: string;
  /** Built fresh for each program: commander keeps parsed state on an Option. */
  options?: () => Option[];
  /** A positional argument, stored under `key` in the options `run` receives. */
  argument?: { spec: string; description: string; key: string };
  /** Help text between the options and the exit codes. */
  help?: string;
  examples: string[];
  /** The codes this command can end with; --help lists them with EXIT_MEANINGS. */
  exitCodes: ExitCode[];
  /** What 0 means, when more than "success". */
  zeroMeans?: string;
  /** What 1 means (only commands that report drift exit 1). */
  oneMeans?: string;
  /** The command takes --db-url or --url: cli/options.ts's chooseTarget applies. */
  target?: boolean;
  /** The command ends itself on SIGINT/SIGTERM (serve forwards them to Deno); otherwise main exits with OUTCOMES.interrupted. */
  ownsSignals?: boolean;
  /** Flags after a subcommand's name are the subcommand's (`ledger ack`). */
  positionalOptions?: boolean;
}

export interface CommandModule<O = any> {
  definition: CommandDefinition;
  run(deps: CliDeps, options: O): Promise<number>;
}

/**
 * The "Exit codes:" block of a command's --help, from shared/types.ts's table.
 *
 * @example exitCodesHelp({ exitCodes: [0, 2], examples: [], name: "x", description: "" })
 * // "\nExit codes:\n  0  success\n  2  usage or bad input"
 */
export function exitCodesHelp(def: Pick<CommandDefinition, "exitCodes" | "zeroMeans" | "oneMeans">): string {
  const meaning = (c: ExitCode) => c === EXIT.ok && def.zeroMeans ? def.zeroMeans : c === EXIT.drift && def.oneMeans ? def.oneMeans : EXIT_MEANINGS[c];
  return `\nExit codes:\n${def.exitCodes.map((c) => `  ${c}  ${meaning(c)}`).join("\n")}`;
}

/** The "Examples:" block of a command's --help. */
export function examplesHelp(examples: readonly string[]): string {
  return examples.length ? `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}` : "";
}
