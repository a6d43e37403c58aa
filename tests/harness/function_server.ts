/**
 * Serves the migration-drift function for a test, exactly as `npm run serve` does
 * (the same deno command, from package.json), on a free port, with its database
 * from SUPABASE_DB_URL. It runs in its own process group, and stop() kills the group.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { freePort } from "./postgres.ts";
import { spawnGroup } from "./process_group.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const DENO = resolve(ROOT, "node_modules/.bin/deno");

/** The `serve` script's deno arguments, so the test runs what users run. */
function serveArgs(): string[] {
  const script: string = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")).scripts.serve;
  const [cmd, ...args] = script.split(/\s+/);
  if (cmd !== "deno") throw new Error(`unexpected serve script: ${script}`);
  return args;
}

export interface FunctionServer {
  /** http://127.0.0.1:PORT/functions/v1/migration-drift */
  url: string;
  port: number;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export async function startFunctionServer(env: Record<string, string | undefined>): Promise<FunctionServer> {
  const port = await freePort();
  const childEnv: Record<string, string | undefined> = { ...process.env, PORT: String(port), NO_COLOR: "1" };
  for (const name of ["SUPABASE_DB_URL", "SUPABASE_SECRET_KEYS", "SUPABASE_SECRET_KEY", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_JWKS", "SUPABASE_JWT_SECRET", "SUPABASE_URL"]) {
    delete childEnv[name];
  }
  const group = spawnGroup(DENO, serveArgs(), { cwd: ROOT, env: { ...childEnv, ...env } });
  const child = group.child;
  const output = group.output;

  // Until it listens or exits, however long a loaded machine takes (the hook timeout is the backstop).
  try {
    await new Promise<void>((ready, fail) => {
      const onData = () => {
        if (output().includes("listening on")) ready();
      };
      child.stdout!.on("data", onData);
      child.once("exit", (code) => fail(new Error(`the function exited (${code}) before listening:\n${output()}`)));
    });
  } catch (err) {
    await group.kill();
    throw err;
  }

  return {
    url: `http://127.0.0.1:${port}/functions/v1/migration-drift`,
    port,
    pid: child.pid!,
    output,
    async stop() {
      await group.kill();
      await group.exited;
    },
  };
}
