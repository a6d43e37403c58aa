/** The suggested migration's SQL for a column difference. */
import { columnDefinition, type Writer } from "./writer.ts";

export const writeColumn: Writer = ({ d, o, p, info, phase, byKey, add, drop, cannot, notes }) => {
  const table = String(info.table), column = String(info.column);
  if (d.change === "extra") {
    if (byKey.get(o.parent!)?.change === "extra") return; // part of create table
    add(phase, `alter table ${table} add column ${columnDefinition(column, p)};`);
  } else if (d.change === "missing") drop(d.kind, `alter table ${table} drop column ${column};`);
  else {
    const f = d.fields ?? [];
    if (f.includes("identity") || f.includes("generated")) {
      cannot(d, `${f.join(", ")} changed live; identity and generated columns are not derived safely, write it by hand`);
      return;
    }
    const sql: string[] = [];
    if (f.includes("type")) {
      sql.push(`alter table ${table} alter column ${column} type ${p.type};`);
      notes.push(`column ${d.object}: type changed live; add a USING clause if existing values need converting`);
    }
    if (f.includes("default")) sql.push(p.default == null ? `alter table ${table} alter column ${column} drop default;` : `alter table ${table} alter column ${column} set default ${p.default};`);
    if (f.includes("not_null")) sql.push(`alter table ${table} alter column ${column} ${p.not_null ? "set" : "drop"} not null;`);
    if (f.includes("collation")) cannot(d, "collation changed live; not derived safely, write it by hand");
    add(phase, ...sql);
  }
};
