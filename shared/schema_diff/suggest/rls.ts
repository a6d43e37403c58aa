/** The suggested migration's SQL for a rls difference. */
import { type Writer } from "./writer.ts";

export const writeRls: Writer = ({ d, p, phase, cmp, keyOf, add }) => {
  const sql: string[] = [];
  const before = cmp.expected.get(keyOf(d))?.props ?? { enabled: false, forced: false };
  if (d.change === "missing") return;
  if (p.enabled !== before.enabled) sql.push(`alter table ${d.object} ${p.enabled ? "enable" : "disable"} row level security;`);
  if (p.forced !== before.forced) sql.push(`alter table ${d.object} ${p.forced ? "force" : "no force"} row level security;`);
  add(phase, ...sql);
};
