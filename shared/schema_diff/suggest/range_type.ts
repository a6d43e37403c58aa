/** The suggested migration's SQL for a range type difference. */
import { type Writer } from "./writer.ts";

export const writeRangeType: Writer = ({ d, p, phase, add, drop, cannot }) => {
  if (d.change === "extra") add(phase, `create type ${d.object} as range (subtype = ${p.subtype});`);
  else if (d.change === "missing") drop(d.kind, `drop type ${d.object};`);
  else cannot(d, "changed live; recreate it by hand");
};
