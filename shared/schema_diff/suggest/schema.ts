/** The suggested migration's SQL for a schema difference. */
import { type Writer } from "./writer.ts";

export const writeSchema: Writer = ({ d, phase, add, drop }) => {
  if (d.change === "extra") add(phase, `create schema if not exists ${d.object};`);
  else if (d.change === "missing") drop(d.kind, `drop schema ${d.object};`);
};
