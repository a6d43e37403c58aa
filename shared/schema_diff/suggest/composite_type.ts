/** The suggested migration's SQL for a composite type difference. */
import { type Writer } from "./writer.ts";

export const writeCompositeType: Writer = ({ d, p, phase, add, drop, cannot }) => {
  if (d.change === "extra") add(phase, `create type ${d.object} as (${((p.attributes as string[] | null) ?? []).join(", ")});`);
  else if (d.change === "missing") drop(d.kind, `drop type ${d.object};`);
  else cannot(d, "attributes changed live; write the alter type statements by hand");
};
