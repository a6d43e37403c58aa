/** The suggested migration's SQL for a comment difference. */
import { quoteLiteral } from "../sql_quote.ts";
import { type Writer } from "./writer.ts";

export const writeComment: Writer = ({ d, p, phase, add }) => {
  add(phase, `comment on ${d.object} is ${d.change === "missing" ? "null" : quoteLiteral(String(p.text))};`);
};
