/**
 * Servers a test starts (the function under Deno, `drift-guard serve`, PgBouncer) run in their own
 * process group, and the whole group is killed when the test is done, so a grandchild (npx -> node ->
 * deno) cannot outlive it. Every process of a run carries DRIFT_GUARD_TEST_RUN in its environment
 * (set by global_setup.ts), which is how the global teardown finds what a test left behind.
 */
import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** The environment variable whose value marks every process started by one test run. */
export const TEST_RUN_ENV = "DRIFT_GUARD_TEST_RUN";

export interface GroupProcess {
  child: ChildProcess;
  /** The group's id: the leader's pid. */
  pgid: number;
  /** Everything the group wrote to stdout and stderr (when piped). */
  output(): string;
  /** Resolves when the leader has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves when no process of the group is left. */
  kill(graceMs?: number): Promise<void>;
}

/**
 * True while any process of the group is alive.
 * @example if (groupAlive(server.pgid)) await killGroup(server.pgid)
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a pid is alive and not a zombie.
 * @example expect(pidAlive(deno)).toBe(false)
 */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Kills a process group: SIGTERM, then SIGKILL after `graceMs`, then waits until it is empty.
 * @example await killGroup(server.pid)
 */
export async function killGroup(pgid: number, graceMs = 5_000): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pgid, s);
    } catch { /* already gone */ }
  };
  signal("SIGTERM");
  for (let waited = 0; groupAlive(pgid); waited += 50) {
    if (waited >= graceMs) signal("SIGKILL");
    if (waited >= graceMs + 10_000) throw new Error(`process group ${pgid} survived SIGKILL`);
    await sleep(50);
  }
}

/**
 * Spawns a command as the leader of its own process group (detached), stdout/stderr piped and kept.
 * @example
 *   const pg = spawnGroup("npx", ["drift-guard", "serve"], { cwd });
 *   try { … } finally { await pg.kill(); }
 */
export function spawnGroup(command: string, args: string[], options: SpawnOptions = {}): GroupProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options, detached: true });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once("exit", (code, signal) => done({ code, signal }));
    child.once("error", () => done({ code: null, signal: null }));
  });
  if (child.pid === undefined) {
    return { child, pgid: -1, output: () => output, exited, kill: async () => {} };
  }
  const pgid = child.pid;
  return { child, pgid, output: () => output, exited, kill: (graceMs) => killGroup(pgid, graceMs) };
}

export interface MarkedProcess {
  pid: number;
  cmdline: string;
}

/**
 * Processes whose environment has DRIFT_GUARD_TEST_RUN=`runId`, except `exclude` (the runner itself).
 * @example markedProcesses(process.env.DRIFT_GUARD_TEST_RUN!, [process.pid])
 */
export function markedProcesses(runId: string, exclude: number[] = []): MarkedProcess[] {
  const marker = `${TEST_RUN_ENV}=${runId}`;
  const found: MarkedProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const pid = Number(entry);
    if (exclude.includes(pid)) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (!env.includes(marker) || !pidAlive(pid)) continue;
      found.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() });
    } catch { /* gone, or not ours to read */ }
  }
  return found;
}

/**
 * The parent pid of a process, or null when it is gone.
 * @example process.kill(parentPid(deno)!, "SIGKILL")
 */
export function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/**
 * Every live descendant of `pid` (children, their children, …), with its command line.
 * @example descendants(server.pgid).find((p) => p.cmdline.includes("deno"))
 */
export function descendants(pid: number): MarkedProcess[] {
  const all = readdirSync("/proc").filter((e) => /^[0-9]+$/.test(e)).map(Number);
  const children = new Map<number, number[]>();
  for (const p of all) {
    const parent = parentPid(p);
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), p]);
  }
  const found: MarkedProcess[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    if (!pidAlive(p)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch { /* gone */ }
    found.push({ pid: p, cmdline });
    queue.push(...(children.get(p) ?? []));
  }
  return found;
}

/**
 * Resolves once `pid` is gone (or a zombie); the test's timeout is the backstop.
 * @example await waitUntilGone(deno)
 */
export async function waitUntilGone(pid: number): Promise<void> {
  while (pidAlive(pid)) await sleep(50);
}

/**
 * The process group of a process, or null when it is gone.
 * @example groupOf(deno) === deno // Deno leads its own group under drift-guard serve
 */
export function groupOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
  } catch {
    return null;
  }
}

/**
 * Kills the group of `pid` and every group its descendants moved into (a child spawned detached):
 * for servers whose children lead their own group, as `drift-guard serve` starts Deno.
 * @example afterAll(() => killTree(server.pid!))
 */
export async function killTree(pid: number, graceMs = 5_000): Promise<void> {
  const groups = new Set<number>([pid]);
  for (const p of descendants(pid)) {
    const g = groupOf(p.pid);
    if (g !== null && g > 1) groups.add(g);
  }
  await Promise.all([...groups].map((g) => killGroup(g, graceMs)));
}

/**
 * The id marking this test run's processes: set in the environment by the first global setup that
 * asks (owner: true, so it checks for leftovers at teardown), reused by any other (owner: false).
 * @example const { runId, owner } = markTestRun();
 */
export function markTestRun(): { runId: string; owner: boolean } {
  const existing = process.env[TEST_RUN_ENV];
  if (existing) return { runId: existing, owner: false };
  const runId = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  process.env[TEST_RUN_ENV] = runId;
  return { runId, owner: true };
}

/**
 * process.env without the run's marker: for servers a global setup owns and stops itself.
 * @example await startPostgres({ env: unmarkedEnv() })
 */
export function unmarkedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env[TEST_RUN_ENV];
  return env;
}
