/** Who the CLI user is, as the audit log and the ledger's acknowledgements record them. */
import { hostname, userInfo } from "node:os";
import type { Actor } from "../db/repair.ts";

/**
 * The OS user and host running the CLI.
 * @example cliActor() // { via: "cli", user: "alice", host: "laptop" }
 */
export function cliActor(): Actor {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch { /* no passwd entry */ }
  return { via: "cli", user, host: hostname() };
}
