/** The suggested migration's SQL for an index difference. */
import { ensureSemicolon } from "../sql_quote.ts";
import { CREATE_PHASE, type Writer } from "./writer.ts";

export const writeIndex: Writer = ({ d, o, p, info, add, drop }) => {
  if (info.constraint) return; // created and dropped with its constraint
  // Indexes on materialized views come after the views.
  const phase = o.parent?.startsWith("materialized_view:") ? CREATE_PHASE.materialized_view + 0.5 : CREATE_PHASE.index;
  if (d.change === "extra") add(phase, ensureSemicolon(String(p.definition)));
  else if (d.change === "missing") drop(d.kind, `drop index ${d.object};`);
  else add(phase, `drop index ${d.object};`, ensureSemicolon(String(p.definition)));
};
