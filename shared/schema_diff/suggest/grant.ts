/** The suggested migration's SQL for a grant difference. */
import { grantTarget, privilegeList, type Writer } from "./writer.ts";

export const writeGrant: Writer = ({ d, info, phase, cmp, keyOf, add }) => {
  const target = grantTarget(info);
  const grantee = info.grantee === "PUBLIC" ? "public" : String(info.grantee);
  const before = cmp.expected.get(keyOf(d))?.props ?? { privileges: [], grantable: [] };
  const after = cmp.actual.get(keyOf(d))?.props ?? { privileges: [], grantable: [] };
  const bp = before.privileges as string[], ap = after.privileges as string[];
  const bg = before.grantable as string[], ag = after.grantable as string[];
  const sql: string[] = [];
  const removed = bp.filter((x) => !ap.includes(x));
  if (removed.length) sql.push(`revoke ${privilegeList(removed, info)} on ${target} from ${grantee};`);
  const lostOption = bg.filter((x) => ap.includes(x) && !ag.includes(x));
  if (lostOption.length) sql.push(`revoke grant option for ${privilegeList(lostOption, info)} on ${target} from ${grantee};`);
  const added = ap.filter((x) => !bp.includes(x) && !ag.includes(x));
  if (added.length) sql.push(`grant ${privilegeList(added, info)} on ${target} to ${grantee};`);
  const withOption = ag.filter((x) => !bg.includes(x));
  if (withOption.length) sql.push(`grant ${privilegeList(withOption, info)} on ${target} to ${grantee} with grant option;`);
  add(phase, ...sql);
};
