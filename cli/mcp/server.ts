/**
 * The drift-guard MCP server: the tools, their schemas, and the one place that turns a
 * result into structured content and an error into a tool error (`isError`), so that no
 * failure, however bad the arguments or the database, ends the server.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { z } from "zod";
import { parseSince } from "../../shared/ledger.ts";
import { refuseDifferent, type RepairRequest, validateAuditId, validateReason, validateRepairRequest } from "../../shared/repair_plan.ts";
import { visibleDeep } from "../../shared/report_formats/text_escape.ts";
import { DriftGuardError, type RepairPlan } from "../../shared/types.ts";
import type { Actor } from "../../db/repair.ts";
import { repairRequestFrom } from "../commands/repair.ts";
import type { CliDeps } from "../deps.ts";
import { type McpBackend, writeFetchedRows } from "./backend.ts";
import { DESCRIPTIONS, SERVER_INSTRUCTIONS, type ToolName } from "./descriptions.ts";
import * as schemas from "./schemas.ts";

/** A tools/call result (the SDK's CallToolResult, as much of it as this server fills). */
interface CallToolResult {
  [key: string]: unknown;
  content: Array<{ type: "text"; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface DriftGuardMcpOptions {
  backend: McpBackend;
  /** The tools to offer (by --read-only and the token's scope). */
  tools: ReadonlySet<ToolName>;
  /** apply_repair and undo_repair return the command a person runs instead of writing. */
  requireApproval: boolean;
  /** drift-guard's version, for the initialize handshake. */
  version: string;
  /** Who runs the server (user, host): the audit actor adds the MCP client and the tool. */
  operator: Actor;
  /** Where fetch_migrations writes, and nowhere else (relative to `deps.cwd`). */
  migrations: string;
  /** The file system fetch_migrations writes through; `cwd` is where paths are relative to, and where commands run. */
  deps: Pick<CliDeps, "fs" | "cwd" | "now">;
}

/** How long an untrusted client name or version may be in the audit actor. */
const CLIENT_FIELD_MAX = 200;

const clientField = (value: unknown) => (typeof value === "string" ? value.slice(0, CLIENT_FIELD_MAX) : null);

function success(data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(data, null, 2) }], structuredContent: data };
}

/**
 * Every failure as a tool error: `{ "error": { code, message, hint } }`, the JSON the
 * CLI prints with --format json, with control and bidi characters escaped (a message may
 * quote a version, a name or a lock holder's application_name).
 *
 * @example toolError(new DriftGuardError("digest_mismatch", "the history changed")).isError // true
 */
export function toolError(err: unknown): CallToolResult {
  const error = err instanceof DriftGuardError
    ? err
    : new DriftGuardError("internal", `unexpected error (${(err as Error)?.name ?? typeof err})`, "the server keeps running; run the same command with the drift-guard CLI to see more");
  return { isError: true, content: [{ type: "text", text: JSON.stringify(visibleDeep(error.toJSON())) }] };
}

const repairRequest = (args: schemas.PlanInput): RepairRequest => {
  const request = repairRequestFrom({
    markApplied: args.mark_applied,
    markReverted: args.mark_reverted,
    move: args.move?.from,
    to: args.move?.to,
    squash: args.squash?.rows,
    into: args.squash === undefined ? undefined : [args.squash.into].flat(),
    reason: args.reason,
    forceDifferent: args.force_different,
  });
  const valid = validateRepairRequest(request);
  return { ...request, reason: valid.reason };
};

/**
 * The MCP server with the tools `options.tools` names, not yet connected to a transport.
 *
 * @example
 * const server = await createDriftGuardMcpServer({ backend, tools: new Set(["check"]), requireApproval: true, version: "0.1.0", operator, migrations: "supabase/migrations", deps })
 * await server.connect(new StdioServerTransport())
 */
export async function createDriftGuardMcpServer(options: DriftGuardMcpOptions): Promise<McpServer> {
  // Loaded here, not at the top: every other drift-guard command starts without the SDK.
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const server = new McpServer({ name: "drift-guard", version: options.version }, { capabilities: { tools: {} }, instructions: SERVER_INSTRUCTIONS });
  const { backend, requireApproval } = options;

  /** The audit actor: who runs the server, and the client and tool that asked (the client's name is its own claim). */
  const actorFor = (tool: ToolName): Actor => {
    const client = server.server.getClientVersion();
    return { ...options.operator, via: "mcp", mcp_client: { name: clientField(client?.name), version: clientField(client?.version) }, mcp_tool: tool };
  };

  const tool = <I extends z.ZodObject, O extends z.ZodObject>(
    name: ToolName,
    title: string,
    inputSchema: I,
    outputSchema: O,
    annotations: { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean },
    run: (args: z.infer<I>) => Promise<Record<string, unknown>>,
  ) => {
    if (!options.tools.has(name)) return;
    // deno-lint-ignore no-explicit-any -- the SDK's generic callback type does not follow a generic schema
    server.registerTool(name, { title, description: DESCRIPTIONS[name], inputSchema, outputSchema, annotations: { ...annotations, openWorldHint: false } }, (async (args: z.infer<I>) => {
      try {
        return success(await run(args));
      } catch (err) {
        return toolError(err);
      }
    }) as any);
  };

  const approval = (command: string) => ({ approval_required: true, command, cwd: options.deps.cwd });

  tool("check", "Check migration drift", schemas.checkInput, schemas.reportOutput, { readOnlyHint: true, idempotentHint: true }, async (args) => {
    const since = args.since ? parseSince(args.since, options.deps.now(), "since") : undefined;
    return { ...(await backend.check({ evidence: args.evidence ?? true, since })) };
  });

  tool("plan_repair", "Plan a history repair (dry run)", schemas.planInput, schemas.repairOutput, { readOnlyHint: true, idempotentHint: true }, (args) => backend.plan(repairRequest(args)));

  tool("apply_repair", "Apply a reviewed repair plan", schemas.applyInput, schemas.repairOutput, { readOnlyHint: false, destructiveHint: true }, async (args) => {
    const request = repairRequest(args);
    if (!requireApproval) return await backend.apply(request, args.plan_digest, actorFor("apply_repair"));
    // Approval: the command is handed over only for the plan that is still current, and one that would apply.
    const plan = await backend.plan(request);
    if (args.plan_digest === plan.history_digest) {
      throw new DriftGuardError("bad_input", "that is the history digest, which does not pin what the repair writes", "pass the plan_digest that plan_repair returned");
    }
    if (plan.plan_digest !== args.plan_digest) {
      throw new DriftGuardError("digest_mismatch", `the plan changed since it was reviewed: it is now ${plan.plan_digest}`, "call check and plan_repair again, and show the new plan to the person");
    }
    refuseDifferent(plan as unknown as RepairPlan);
    return { ...plan, ...approval(backend.applyCommand(request, plan)) };
  });

  tool("undo_repair", "Undo an applied repair", schemas.undoInput, schemas.undoOutput, { readOnlyHint: false, destructiveHint: true }, async (args) => {
    const auditId = validateAuditId(args.audit_id);
    const reason = validateReason(args.reason);
    if (requireApproval) return { dry_run: true, undoes: auditId, ...approval(backend.undoCommand(auditId, reason)) };
    return { dry_run: false, ...(await backend.undo(auditId, reason, actorFor("undo_repair"))), undoes: auditId };
  });

  tool("fetch_migrations", "Write remote_only migrations as files", schemas.fetchInput, schemas.fetchOutput, { readOnlyHint: false, destructiveHint: false }, async (args) => {
    const rows = await backend.remoteOnlyRows(args.versions ?? []);
    return { ...(await writeFetchedRows(options.deps, options.migrations, rows)) };
  });

  tool("ledger", "Read the DDL ledger", schemas.ledgerInput, schemas.ledgerOutput, { readOnlyHint: true, idempotentHint: true }, async (args) => {
    return { ...(await backend.ledger(args)) };
  });

  return server;
}
