/** The suggested migration's SQL for a sequence difference. */
import { FK_PHASE, type Writer } from "./writer.ts";

export const writeSequence: Writer = ({ d, p, info, phase, add, drop }) => {
  if (info.identity) return; // belongs to an identity column
  const spec = (fields: string[]) => {
    const parts: string[] = [];
    if (fields.includes("type")) parts.push(`as ${p.type}`);
    if (fields.includes("increment")) parts.push(`increment by ${p.increment}`);
    if (fields.includes("min")) parts.push(`minvalue ${p.min}`);
    if (fields.includes("max")) parts.push(`maxvalue ${p.max}`);
    if (fields.includes("start")) parts.push(`start with ${p.start}`);
    if (fields.includes("cache")) parts.push(`cache ${p.cache}`);
    if (fields.includes("cycle")) parts.push(p.cycle ? "cycle" : "no cycle");
    return parts.join(" ");
  };
  if (d.change === "extra") {
    add(phase, `create sequence ${d.object} ${spec(["type", "increment", "min", "max", "start", "cache", "cycle"])};`);
    if (info.owned_by) add(FK_PHASE, `alter sequence ${d.object} owned by ${info.owned_by};`);
  } else if (d.change === "missing") drop(d.kind, `drop sequence ${d.object};`);
  else add(phase, `alter sequence ${d.object} ${spec(d.fields ?? [])};`);
};
