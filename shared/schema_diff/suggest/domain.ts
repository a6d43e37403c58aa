/** The suggested migration's SQL for a domain difference. */
import { type Writer } from "./writer.ts";

export const writeDomain: Writer = ({ d, p, phase, add, drop, cannot }) => {
  if (d.change === "extra") {
    const parts = [`create domain ${d.object} as ${p.base}`];
    if (p.default != null) parts.push(`default ${p.default}`);
    if (p.not_null) parts.push("not null");
    for (const c of (p.constraints as string[] | null) ?? []) parts.push(c);
    add(phase, parts.join(" ") + ";");
  } else if (d.change === "missing") drop(d.kind, `drop domain ${d.object};`);
  else cannot(d, `changed live (${d.fields?.join(", ")}); write the alter domain statements by hand`);
};
