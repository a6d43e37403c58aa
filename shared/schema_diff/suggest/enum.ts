/** The suggested migration's SQL for an enum difference. */
import { quoteLiteral } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeEnum: Writer = ({ d, p, phase, cmp, keyOf, add, drop, cannot }) => {
  const labels = (p.labels as string[]) ?? [];
  if (d.change === "extra") add(phase, `create type ${d.object} as enum (${labels.map(quoteLiteral).join(", ")});`);
  else if (d.change === "missing") drop(d.kind, `drop type ${d.object};`);
  else {
    const before = (cmp.expected.get(keyOf(d))!.props.labels as string[]) ?? [];
    if (before.every((l) => labels.includes(l)) && before.every((l, i) => i === 0 || labels.indexOf(l) > labels.indexOf(before[i - 1]))) {
      const sql: string[] = [];
      labels.forEach((l, i) => {
        if (before.includes(l)) return;
        sql.push(i === 0 ? `alter type ${d.object} add value ${quoteLiteral(l)} before ${quoteLiteral(labels[1])};` : `alter type ${d.object} add value ${quoteLiteral(l)} after ${quoteLiteral(labels[i - 1])};`);
      });
      add(phase, ...sql);
    } else cannot(d, "labels were removed or reordered live; Postgres cannot drop enum labels, recreate the type by hand");
  }
};
