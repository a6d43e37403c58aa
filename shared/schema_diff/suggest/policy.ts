/** The suggested migration's SQL for a policy difference. */
import { quoteIdent } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writePolicy: Writer = ({ d, p, info, phase, add, drop }) => {
  const table = String(info.table), name = String(info.policy);
  const roles = ((p.roles as string[] | null) ?? ["public"]).map((r) => (r === "public" ? "public" : quoteIdent(r))).join(", ");
  const create = `create policy ${name} on ${table} as ${p.permissive ? "permissive" : "restrictive"} for ${String(p.command).toLowerCase()} to ${roles}` +
    (p.using != null ? `\n  using (${p.using})` : "") + (p.with_check != null ? `\n  with check (${p.with_check})` : "") + ";";
  if (d.change === "extra") add(phase, create);
  else if (d.change === "missing") drop(d.kind, `drop policy ${name} on ${table};`);
  else {
    const f = d.fields ?? [];
    if (f.includes("command") || f.includes("permissive") || (f.includes("using") && p.using == null) || (f.includes("with_check") && p.with_check == null)) {
      add(phase, `drop policy ${name} on ${table};`, create);
    } else {
      const parts = [`alter policy ${name} on ${table}`];
      if (f.includes("roles")) parts.push(`to ${roles}`);
      if (f.includes("using")) parts.push(`using (${p.using})`);
      if (f.includes("with_check")) parts.push(`with check (${p.with_check})`);
      add(phase, parts.join("\n  ") + ";");
    }
  }
};
