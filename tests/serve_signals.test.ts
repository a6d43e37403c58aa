/**
 * `drift-guard serve` and `npm run serve` never leave their Deno child behind: a stop signal sent to
 * the parent alone stops Deno too, and so does killing the parent outright (SIGKILL, as a CI step's
 * timeout does), since the function's serve.ts stops when its parent is gone.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, driftGuard } from "./harness/drift_guard_cli.ts";
import { ROOT } from "./harness/function_server.ts";
import { freePort } from "./harness/postgres.ts";
import { descendants, type GroupProcess, killGroup, parentPid, pidAlive, spawnGroup, waitUntilGone } from "./harness/process_group.ts";
import { makeProject } from "./harness/supabase_cli.ts";

// Nothing listens on port 1: the server starts (its pool opens on first use) and no test sends a query.
const UNUSED_DB_URL = "postgresql://postgres:unused@127.0.0.1:1/postgres";

async function untilListening(server: GroupProcess): Promise<void> {
  await new Promise<void>((ready, fail) => {
    const check = () => server.output().includes("listening on") && ready();
    server.child.stdout!.on("data", check);
    server.child.stderr!.on("data", check);
    server.child.once("exit", (code) => fail(new Error(`exited (${code}) before listening:\n${server.output()}`)));
    check();
  });
}

/** The Deno process serving the function, among the descendants of `pid`. */
function denoUnder(pid: number): number {
  const deno = descendants(pid).find((p) => /\bdeno\b/.test(p.cmdline.split(" ")[0]) && p.cmdline.includes("serve.ts"));
  if (!deno) throw new Error(`no deno serve.ts under ${pid}: ${JSON.stringify(descendants(pid))}`);
  return deno.pid;
}

/** Kills the group of every process a test started, whichever groups they moved into. */
async function cleanUp(server: GroupProcess | undefined, deno: number | undefined) {
  if (deno && pidAlive(deno)) await killGroup(deno, 1_000).catch(() => process.kill(deno, "SIGKILL"));
  if (server) await server.kill(1_000);
}

describe("drift-guard serve", () => {
  let project: string;

  beforeAll(() => {
    project = makeProject({});
    writeFileSync(join(project, "supabase", "config.toml"), 'project_id = "serve-signals"\n');
    const init = driftGuard(["init", "--workdir", project]);
    expect(init.status, init.stderr).toBe(0);
  });

  const serve = async () => {
    const server = spawnGroup(process.execPath, [BIN, "serve", "--workdir", project, "--port", String(await freePort()), "--db-url", UNUSED_DB_URL], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    await untilListening(server);
    return server;
  };

  it.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)("on %s to the node parent alone: Deno stops, then serve exits 0", async (signal) => {
    let server: GroupProcess | undefined;
    let deno: number | undefined;
    try {
      server = await serve();
      deno = denoUnder(server.pgid);
      process.kill(server.pgid, signal);
      const exit = await server.exited;
      expect(exit, server.output()).toEqual({ code: 0, signal: null });
      expect(pidAlive(deno), `deno ${deno} outlived drift-guard serve`).toBe(false);
    } finally {
      await cleanUp(server, deno);
    }
  });

  it("when the node parent is killed outright (SIGKILL), Deno stops by itself", async () => {
    let server: GroupProcess | undefined;
    let deno: number | undefined;
    try {
      server = await serve();
      deno = denoUnder(server.pgid);
      process.kill(server.pgid, "SIGKILL");
      await server.exited;
      await waitUntilGone(deno);
      expect(pidAlive(deno)).toBe(false);
    } finally {
      await cleanUp(server, deno);
    }
  });
});

describe("npm run serve", () => {
  it("when only the parent of Deno is killed (SIGKILL), Deno stops by itself", async () => {
    let server: GroupProcess | undefined;
    let deno: number | undefined;
    try {
      server = spawnGroup("npm", ["run", "serve"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", PORT: String(await freePort()), SUPABASE_DB_URL: UNUSED_DB_URL } });
      await untilListening(server);
      deno = denoUnder(server.pgid);
      const parent = parentPid(deno)!;
      process.kill(parent, "SIGKILL");
      await waitUntilGone(deno);
      expect(pidAlive(deno)).toBe(false);
    } finally {
      await cleanUp(server, deno);
    }
  });
});
