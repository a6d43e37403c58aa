/**
 * `drift-guard mcp`: a Model Context Protocol server on stdio, so that an agent checks,
 * plans and repairs through the same guards as a person: the dry-run plan, its digest,
 * the reason, the lock, the audit log and undo.
 */
import { Option } from "commander";
import type { Readable, Writable } from "node:stream";
import { DriftGuardError, EXIT } from "../../shared/types.ts";
import { cliActor } from "../actor.ts";
import type { CommandDefinition } from "../command.ts";
import type { CliDeps } from "../deps.ts";
import { requireFunctionTarget } from "../function_client.ts";
import { readMigrationsDir } from "../local_migrations.ts";
import { dbUrlOption, functionUrlOption, migrationsOption, requireDbUrl, TARGET_RULE_HELP, tokenOption } from "../options.ts";
import { VERSION } from "../version.ts";
import type { McpBackend } from "../mcp/backend.ts";
import { databaseBackend } from "../mcp/database_backend.ts";
import { READ_TOOLS, type ToolName } from "../mcp/descriptions.ts";
import { functionBackend, type Scope, tokenScope } from "../mcp/function_backend.ts";
import { createDriftGuardMcpServer } from "../mcp/server.ts";

/**
 * CliDeps plus what a stdio server needs: the process's own stdin and stdout streams,
 * which carry the protocol (JSON-RPC, one message a line). Nothing else may write to
 * `protocolOut`; messages go to `stderr`, which MCP clients show in their logs.
 */
export interface McpDeps extends CliDeps {
  protocolIn: Readable;
  protocolOut: Writable;
}

export const definition: CommandDefinition = {
  name: "mcp",
  description: "serve drift-guard's tools to an AI agent over the Model Context Protocol (stdio): check, plan_repair, apply_repair, undo_repair, fetch_migrations, ledger",
  options: () => [
    dbUrlOption(),
    functionUrlOption(),
    tokenOption(),
    migrationsOption(),
    new Option("--read-only", "offer check, plan_repair and ledger only"),
    new Option("--require-approval", "apply_repair and undo_repair return the exact command a person runs, and write nothing (the default)"),
    new Option("--no-require-approval", "let apply_repair and undo_repair write (each still needs the reviewed plan's digest and a reason, and is audited)"),
  ],
  help: `${TARGET_RULE_HELP}
Through the function (--url), the token's scope limits the tools: plan_repair, apply_repair and
undo_repair need a repair token. Register the server in your MCP client: see docs/mcp.md.`,
  exitCodes: [0, 2, 3],
  zeroMeans: "the client closed the connection",
  examples: [
    "SUPABASE_DB_URL=postgresql://… drift-guard mcp",
    "drift-guard mcp --read-only",
    'drift-guard mcp --url "$DRIFT_GUARD_URL" --token "$DRIFT_GUARD_TOKEN"',
  ],
  target: true,
  // The server ends itself on a signal: it closes the transport and exits 0.
  ownsSignals: true,
};

/**
 * The protocol's streams from `deps`: cli/node_deps.ts gives the process's stdin and
 * stdout; a CliDeps without them (a test's in-process deps) cannot serve.
 */
function protocolStreams(deps: CliDeps): Pick<McpDeps, "protocolIn" | "protocolOut"> {
  const given = deps as Partial<McpDeps>;
  if (!given.protocolIn || !given.protocolOut) throw new DriftGuardError("internal", "drift-guard mcp needs the protocol's streams (stdin and stdout)");
  return { protocolIn: given.protocolIn, protocolOut: given.protocolOut };
}

export interface McpOptions {
  dbUrl?: string;
  url?: string;
  token?: string;
  migrations: string;
  readOnly?: boolean;
  /** Unless false: apply_repair and undo_repair hand a person the command instead of writing. */
  requireApproval?: boolean;
}

const ALL_TOOLS: readonly ToolName[] = ["check", "plan_repair", "apply_repair", "undo_repair", "fetch_migrations", "ledger"];

/**
 * The tools a server offers: everything, less what --read-only or the token's scope rule
 * out. Through the function, plan_repair, apply_repair and undo_repair need a repair token
 * (the function's POST /repair, even for a dry run).
 *
 * @example offeredTools({ readOnly: false, scope: "read" }) // Set { "check", "fetch_migrations", "ledger" }
 */
export function offeredTools(options: { readOnly: boolean; scope: Scope }): Set<ToolName> {
  let tools = options.readOnly ? [...READ_TOOLS] : [...ALL_TOOLS];
  if (options.scope !== "repair") tools = tools.filter((t) => !["plan_repair", "apply_repair", "undo_repair"].includes(t));
  return new Set(ALL_TOOLS.filter((t) => tools.includes(t)));
}

/** Who runs the server: the CLI's own actor, whose `via` the server replaces with "mcp". */
function operator(): Record<string, unknown> {
  const { via: _via, ...who } = cliActor();
  return who;
}

/**
 * Serves until the client closes stdin or a signal arrives; 0 then. A bad flag, a
 * missing migrations folder or a token the function refuses ends it without serving (2 or 3).
 *
 * @example await run(deps, { dbUrl: "postgresql://…", migrations: "supabase/migrations", requireApproval: true })
 */
export async function run(deps: CliDeps, options: McpOptions): Promise<number> {
  const { protocolIn, protocolOut } = protocolStreams(deps);
  // A wrong folder is a configuration error: say so at start-up, in the client's log, not on every call.
  await readMigrationsDir(options.migrations, deps);
  let backend: McpBackend;
  let scope: Scope = "repair";
  if (options.url && !options.dbUrl) {
    const target = requireFunctionTarget(options.url, options.token);
    scope = await tokenScope(target);
    backend = functionBackend(deps, target, options.migrations);
  } else {
    const url = requireDbUrl(options.dbUrl, "mcp", { orFunction: true });
    try {
      new URL(url);
    } catch {
      throw new DriftGuardError("usage", "the database URL is not a valid URL", "expected postgresql://user:password@host:5432/postgres");
    }
    backend = databaseBackend(deps, url, options.migrations);
  }
  const requireApproval = options.requireApproval !== false;
  const tools = offeredTools({ readOnly: options.readOnly === true, scope });
  const server = await createDriftGuardMcpServer({
    backend,
    tools,
    requireApproval,
    version: VERSION,
    operator: operator(),
    migrations: options.migrations,
    deps,
  });
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const transport = new StdioServerTransport(protocolIn, protocolOut);
  const closed = new Promise<void>((done) => {
    protocolIn.once("end", done);
    protocolIn.once("close", done);
    if (deps.signal.aborted) done();
    deps.signal.addEventListener("abort", () => done(), { once: true });
  });
  await server.connect(transport);
  deps.stderr.write(
    `drift-guard mcp: serving ${[...tools].join(", ")} over stdio, ${backend.kind === "function" ? `through the function (token scope ${scope})` : "against the database"}` +
      `${tools.has("apply_repair") ? (requireApproval ? "; apply_repair and undo_repair return the command a person runs (--no-require-approval lets them write)" : "; apply_repair and undo_repair write (approval not required)") : ""}\n`,
  );
  await closed;
  await server.close().catch(() => {});
  return EXIT.ok;
}
