/** `drift-guard audit`: the audit log, newest first. */
import { EXIT } from "../../shared/types.ts";
import { listAudit } from "../../db/audit.ts";
import type { CommandDefinition } from "../command.ts";
import { withDatabase } from "../database.ts";
import type { CliDeps } from "../deps.ts";
import { requireInstalled } from "../installed.ts";
import { lineWriter, writeJson } from "../lines.ts";
import { dbUrlOption, formatOption, requireDbUrl } from "../options.ts";

export const definition: CommandDefinition = {
  name: "audit",
  description: "the audit log, newest first",
  options: () => [dbUrlOption(), formatOption(["text", "json"])],
  exitCodes: [0, 2, 3],
  examples: ["drift-guard audit", "drift-guard audit --format json"],
};

function describeActor(actor: Record<string, unknown>): string {
  for (const key of ["label", "user", "name", "email", "id"]) {
    const v = actor?.[key];
    if (typeof v === "string" && v) {
      const via = typeof actor.via === "string" ? ` via ${actor.via}` : "";
      // `drift-guard mcp`: the client's own claim from the MCP handshake (escaped by write like every field).
      const client = actor.mcp_client as { name?: unknown; version?: unknown } | undefined;
      const agent = typeof client?.name === "string" ? ` (MCP client ${client.name}${typeof client.version === "string" ? ` ${client.version}` : ""})` : "";
      return `${v}${via}${agent}`;
    }
  }
  return JSON.stringify(actor ?? {});
}

/**
 * Prints the audit log as text or JSON.
 * @example await run(deps, { dbUrl, format: "text" })
 */
export async function run(deps: CliDeps, opts: { dbUrl?: string; format: "text" | "json" }): Promise<number> {
  const url = requireDbUrl(opts.dbUrl, "audit");
  const entries = await withDatabase(deps, url, async (sql) => {
    await requireInstalled(sql);
    return await listAudit(sql);
  });
  if (opts.format === "json") {
    writeJson(deps.stdout, entries);
    return EXIT.ok;
  }
  const write = lineWriter(deps.stdout);
  if (entries.length === 0) {
    write("the audit log is empty: no repair has been applied");
    return EXIT.ok;
  }
  entries.forEach((e, i) => {
    if (i > 0) write();
    const status = e.kind === "undo" ? `undoes ${e.undoes}` : e.undone_by ? `undone by ${e.undone_by}` : "in effect";
    write(`${e.created_at}  ${e.kind}  ${e.id}  (${status})`);
    write(`  by:      ${describeActor(e.actor)}`);
    write(`  reason:  ${e.reason.replace(/\s*\n\s*/g, " ")}`);
    const changes = e.changes.map((c) => `${c.op} ${c.version}${c.name ? ` (${c.name})` : ""}`);
    write(`  changes: ${changes.length ? changes.join(", ") : "(none recorded)"}`);
    write(`  digest:  ${e.digest_before} -> ${e.digest_after}`);
  });
  return EXIT.ok;
}
