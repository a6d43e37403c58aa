/** The suggested migration's SQL for a view difference. */
import { ensureSemicolon } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeView: Writer = ({ d, p, phase, cmp, keyOf, add, drop, notes }) => {
  const opts = (p.options as string[] | null) ?? [];
  const create = `create or replace view ${d.object}${opts.length ? ` with (${opts.join(", ")})` : ""} as\n${ensureSemicolon(String(p.definition).replace(/^\s+/, ""))}`;
  if (d.change === "extra") add(phase, create);
  else if (d.change === "missing") drop(d.kind, `drop view ${d.object};`);
  else if (d.fields?.length === 1 && d.fields[0] === "options") {
    const before = (cmp.expected.get(keyOf(d))!.props.options as string[] | null) ?? [];
    const reset = before.map((x) => x.split("=")[0]).filter((k) => !opts.some((x) => x.split("=")[0] === k));
    if (reset.length) add(phase, `alter view ${d.object} reset (${reset.join(", ")});`);
    if (opts.length) add(phase, `alter view ${d.object} set (${opts.join(", ")});`);
  } else {
    add(phase, create);
    notes.push(`view ${d.object}: create or replace view fails if columns were removed or reordered; then drop and recreate it (and its dependents)`);
  }
};
