/** The suggested migration's SQL for a trigger difference. */
import { ensureSemicolon } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeTrigger: Writer = ({ d, p, info, phase, add, drop }) => {
  const table = String(info.table), name = String(info.trigger);
  const enable = p.enabled === "origin" ? null : `alter table ${table} ${p.enabled === "disabled" ? "disable" : p.enabled === "replica" ? "enable replica" : "enable always"} trigger ${name};`;
  if (d.change === "extra") add(phase, ensureSemicolon(String(p.definition)), ...(enable ? [enable] : []));
  else if (d.change === "missing") drop(d.kind, `drop trigger ${name} on ${table};`);
  else if (d.fields?.includes("definition")) add(phase, `drop trigger ${name} on ${table};`, ensureSemicolon(String(p.definition)), ...(enable ? [enable] : []));
  else add(phase, enable ?? `alter table ${table} enable trigger ${name};`);
};
