/** The suggested migration's SQL for a table difference. */
import { columnDefinition, REPLICA_IDENTITY_PHASE, type Writer } from "./writer.ts";

export const writeTable: Writer = ({ d, p, phase, cmp, add, drop, cannot }) => {
  if (d.change === "extra") {
    if (p.foreign) {
      cannot(d, "is a foreign table: create it with its server and options by hand");
      return;
    }
    const opts = (p.options as string[] | null) ?? [];
    const withOpts = opts.length ? ` with (${opts.join(", ")})` : "";
    const unlogged = p.unlogged ? "unlogged " : "";
    if (p.partition_of) {
      add(phase, `create ${unlogged}table ${d.object} partition of ${p.partition_of} ${p.partition_bound}${p.partition_key ? ` partition by ${p.partition_key}` : ""}${withOpts};`);
      return;
    }
    const columns = [...cmp.actual.values()]
      .filter((c) => c.kind === "column" && c.parent === `table:${d.object}`)
      .sort((x, y) => Number(x.info?.position) - Number(y.info?.position))
      .map((c) => "  " + columnDefinition(String(c.info?.column), c.props));
    const inherits = (p.inherits as string[] | null)?.length ? ` inherits (${(p.inherits as string[]).join(", ")})` : "";
    add(phase, `create ${unlogged}table ${d.object} (\n${columns.join(",\n")}\n)${inherits}${p.partition_key ? ` partition by ${p.partition_key}` : ""}${withOpts};`);
    if (p.replica_identity != null && p.replica_identity !== "default") add(REPLICA_IDENTITY_PHASE, `alter table ${d.object} replica identity ${p.replica_identity};`);
  } else if (d.change === "missing") drop(d.kind, `drop table ${d.object};`);
  else {
    const other = (d.fields ?? []).filter((f) => f !== "replica_identity");
    if (other.length < (d.fields ?? []).length) add(REPLICA_IDENTITY_PHASE, `alter table ${d.object} replica identity ${p.replica_identity ?? "default"};`);
    if (other.length) cannot(d, `changed live (${other.join(", ")}); partitioning, inheritance and storage options are not written for you`);
  }
};
