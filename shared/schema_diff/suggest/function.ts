/** The suggested migration's SQL for a function difference. */
import { ensureSemicolon } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeFunction: Writer = ({ d, p, info, phase, add, drop, cannot, notes }) => {
  const def = info.definition as string | null;
  if (d.change === "missing") {
    drop(d.kind, `drop routine ${d.object};`);
    return;
  }
  if (!def) {
    cannot(d, `is ${p.kind === "aggregate" ? "an aggregate" : "not a plain function"}; write its definition by hand`);
    return;
  }
  const sql: string[] = [];
  if (d.change === "changed" && (d.fields ?? []).some((f) => ["returns", "kind", "arguments"].includes(f))) {
    sql.push(`drop routine ${d.object};`);
    notes.push(`function ${d.object}: its result or arguments changed live, so it is dropped and recreated; grants on it are restated below only if they differ`);
  }
  sql.push(ensureSemicolon(def));
  add(phase, ...sql);
};
