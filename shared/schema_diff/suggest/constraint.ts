/** The suggested migration's SQL for a constraint difference. */
import { FK_PHASE, type Writer } from "./writer.ts";

export const writeConstraint: Writer = ({ d, p, info, phase, add, drop }) => {
  const table = String(info.table), name = String(info.constraint);
  const create = `alter table ${table} add constraint ${name} ${p.definition};`;
  const ph = p.type === "f" ? FK_PHASE : phase;
  if (d.change === "extra") add(ph, create);
  else if (d.change === "missing") drop(d.kind, `alter table ${table} drop constraint ${name};`);
  else add(ph, `alter table ${table} drop constraint ${name};`, create);
};
