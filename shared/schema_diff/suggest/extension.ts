/** The suggested migration's SQL for an extension difference. */
import { quoteIdent } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

/**
 * An extension in another schema live than the migrations put it in is a schema
 * difference: `alter extension … set schema` moves it, where the extension is
 * relocatable; one that is not has to be dropped and created again, which drops
 * what depends on it, so that is a note, not SQL.
 */
export const writeExtension: Writer = ({ d, p, info, phase, add, drop, notes }) => {
  if (d.change === "extra") add(phase, `create extension if not exists ${d.object} with schema ${quoteIdent(String(p.schema))};`);
  else if (d.change === "missing") drop(d.kind, `drop extension ${d.object};`);
  else {
    add(phase, `alter extension ${d.object} set schema ${quoteIdent(String(p.schema))};`);
    if (info.relocatable === false) {
      notes.push(`extension ${d.object}: it is not relocatable, so alter extension … set schema fails; ` +
        `record the live schema instead (create extension … with schema ${quoteIdent(String(p.schema))} in the migration that creates it), or drop and create it again by hand`);
    }
  }
};
