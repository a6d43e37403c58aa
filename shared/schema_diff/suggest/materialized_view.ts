/** The suggested migration's SQL for a materialized view difference. */
import { ensureSemicolon } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeMaterializedView: Writer = ({ d, p, phase, add, drop, notes }) => {
  const create = `create materialized view ${d.object} as\n${ensureSemicolon(String(p.definition).replace(/^\s+/, ""))}`;
  if (d.change === "extra") add(phase, create);
  else if (d.change === "missing") drop(d.kind, `drop materialized view ${d.object};`);
  else {
    add(phase, `drop materialized view ${d.object};`, create);
    notes.push(`materialized view ${d.object}: recreated; its indexes and grants must be restated (they are listed below only if they differ)`);
  }
};
