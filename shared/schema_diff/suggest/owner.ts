/** The suggested migration's SQL for an owner difference. */
import { quoteIdent } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeOwner: Writer = ({ d, p, info, phase, add }) => {
  const target = `${info.word} ${info.object}`;
  if (d.change === "missing") add(phase, `alter ${target} owner to current_user;`);
  else add(phase, `alter ${target} owner to ${quoteIdent(String(p.owner))};`);
};
