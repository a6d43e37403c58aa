/** The suggested migration's SQL for a publication difference. */
import { type Writer } from "./writer.ts";

export const writePublication: Writer = ({ d, p, info, phase, add, drop }) => {
  const table = String(info.table), pub = String(info.publication);
  const cols = (p.columns as string[] | null)?.length ? ` (${(p.columns as string[]).join(", ")})` : "";
  const add_ = `alter publication ${pub} add table ${table}${cols}${p.row_filter != null ? ` where (${p.row_filter})` : ""};`;
  if (d.change === "extra") add(phase, add_);
  else if (d.change === "missing") drop(d.kind, `alter publication ${pub} drop table ${table};`);
  else add(phase, `alter publication ${pub} drop table ${table};`, add_);
};
