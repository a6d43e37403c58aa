/**
 * Debian's PgBouncer (/usr/sbin/pgbouncer) in transaction mode in front of a test PostgreSQL, as
 * Supavisor sits on port 6543 of a hosted project: a server connection per transaction, no session
 * state kept, no prepared statements across transactions, and startup parameters other than the
 * ones PgBouncer tracks (application_name, client_encoding, DateStyle, TimeZone, …) refused with
 * 08P01 "unsupported startup parameter".
 *
 * It listens on loopback only, runs as the `postgres` user when the tests run as root (PgBouncer
 * refuses root), keeps its config, user list and log in its own temp dir, and runs in its own process
 * group, killed by stop(). `PGBOUNCER` overrides the binary; without one, pgbouncerBinary() is null
 * and the tests that need it skip.
 *
 * @example
 *   const bouncer = await startPgBouncer({ serverPort: inject("pg").port, users: { postgres: SUPERUSER_PASSWORD } });
 *   try { await use(bouncer.url("mydb")); } finally { await bouncer.stop(); }
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "./postgres.ts";
import { spawnGroup } from "./process_group.ts";

/**
 * The PgBouncer binary, or null when this machine has none.
 * @example describe.skipIf(!pgbouncerBinary())("behind PgBouncer", () => { … })
 */
export function pgbouncerBinary(): string | null {
  const candidate = process.env.PGBOUNCER || "/usr/sbin/pgbouncer";
  return existsSync(candidate) ? candidate : null;
}

export interface PgBouncer {
  port: number;
  /** A URL of `database` through the pooler, as `user` (default postgres). */
  url(database: string, user?: string): string;
  /** What PgBouncer logged (for failure messages). */
  log(): string;
  /** Kills PgBouncer's process group and removes its temp dir. */
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The PostgreSQL it forwards to, on 127.0.0.1. */
  serverPort: number;
  /** Users and their passwords: PgBouncer authenticates clients with them and logs in to the server as them. */
  users: Record<string, string>;
  /** Server connections per database and user: small, so that clients share them as on the platform. */
  poolSize?: number;
}

function quote(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

async function untilAccepting(port: number, exited: () => boolean, log: () => string): Promise<void> {
  for (;;) {
    if (exited()) throw new Error(`pgbouncer exited before listening:\n${log()}`);
    const ok = await new Promise<boolean>((done) => {
      const socket = connect({ host: "127.0.0.1", port }, () => (socket.destroy(), done(true)));
      socket.once("error", () => done(false));
    });
    if (ok) return;
    await new Promise((done) => setTimeout(done, 50));
  }
}

/**
 * Starts PgBouncer with pool_mode = transaction; throws when the binary is missing.
 * @example const bouncer = await startPgBouncer({ serverPort: 5432, users: { postgres: "pw" } });
 */
export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error("pgbouncer not found: install Debian's pgbouncer or set PGBOUNCER");
  const dir = mkdtempSync(join(tmpdir(), "drift-guard-pgbouncer-"));
  const asRoot = userInfo().uid === 0;
  const owner = asRoot ? { uid: Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout), gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout) } : null;
  chmodSync(dir, 0o700);
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const port = await freePort();
  const users = join(dir, "userlist.txt");
  const config = join(dir, "pgbouncer.ini");
  const logFile = join(dir, "pgbouncer.log");
  writeFileSync(users, Object.entries(options.users).map(([u, p]) => `${quote(u)} ${quote(p)}`).join("\n") + "\n", { mode: 0o600 });
  writeFileSync(config, `[databases]
* = host=127.0.0.1 port=${options.serverPort}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${users}
pool_mode = transaction
default_pool_size = ${options.poolSize ?? 4}
max_client_conn = 200
server_reset_query =
logfile = ${logFile}
pidfile =
admin_users =
`, { mode: 0o600 });
  for (const f of [users, config]) if (owner) chownSync(f, owner.uid, owner.gid);

  const group = asRoot ? spawnGroup("runuser", ["-u", "postgres", "--", binary, config]) : spawnGroup(binary, [config]);
  let exited = false;
  void group.exited.then(() => (exited = true));
  const log = () => {
    const r = spawnSync("cat", [logFile], { encoding: "utf8" });
    return `${group.output()}${r.stdout ?? ""}`;
  };
  const stop = async () => {
    await group.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await untilAccepting(port, () => exited, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url: (database, user = "postgres") => `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(options.users[user] ?? "")}@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`,
    log,
    stop,
  };
}
