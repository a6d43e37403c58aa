/**
 * npm run bench: prints numbers, asserts nothing.
 *  1. parse + checksum throughput (files/s, MB/s) on a realistic corpus
 *  2. `drift-guard check` wall time at 1,000 / 5,000 / 10,000 migrations, next to
 *     `supabase migration list` on the same database in the same run.
 *  3. the function's warm GET /status at 5,000 and 10,000 migrations: median and
 *     p99 latency, server RSS, CPU time per request.
 * Run with BENCH_SIZES=1000,5000 to pick sizes. BENCH_BIN=path/to/drift-guard.js times another
 * build of the CLI (e.g. an older checkout's) for before/after comparisons.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { parseMigrationFiles } from "../shared/migration_files.ts";
import { startPostgres } from "../tests/harness/postgres.ts";
import { migrationText, version, writeSyntheticHistory } from "./synthetic_history.ts";
import { median } from "./stats.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = process.env.BENCH_BIN ?? join(root, "bin/drift-guard.js");
const sizes = (process.env.BENCH_SIZES ?? "1000,5000,10000").split(",").map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);

function timeCommand(cmd: string, args: string[], cwd: string, before: () => void = () => {}): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    before();
    const t0 = performance.now();
    const res = spawnSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    times.push(performance.now() - t0);
    if (res.status !== 0 && res.status !== 1) throw new Error(`${cmd} ${args[0]} failed: ${res.stderr}`);
  }
  return median(times);
}

// 1. throughput
{
  const n = 5000;
  const enc = new TextEncoder();
  const files = Array.from({ length: n }, (_, i) => ({ path: `m/${version(i)}_x.sql`, fileName: `${version(i)}_x.sql`, bytes: enc.encode(migrationText(i)) }));
  const bytes = files.reduce((s, f) => s + f.bytes.length, 0);
  parseMigrationFiles(files.slice(0, 200)); // warm up the JIT
  const t0 = performance.now();
  parseMigrationFiles(files);
  const ms = performance.now() - t0;
  console.log(`parse + checksum: ${n} files, ${(bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms = ${Math.round(n / (ms / 1000))} files/s, ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`);
}

// 0. start-up: the whole process for `drift-guard --help`, as a user runs it
{
  spawnSync("node", [bin, "--help"]); // a checkout rebuilds dist/ once when stale; not part of start-up
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    spawnSync("node", [bin, "--help"], { stdio: "ignore" });
    times.push(performance.now() - t0);
  }
  console.log(`start-up: drift-guard --help, median of 10: ${median(times).toFixed(0)} ms`);
  // One command's start-up: cli/main.ts loads only the command module (and its chunks) the command line names.
  const one: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    spawnSync("node", [bin, "check", "--help"], { stdio: "ignore" });
    one.push(performance.now() - t0);
  }
  console.log(`start-up: drift-guard check --help (check's modules only), median of 10: ${median(one).toFixed(0)} ms`);
}

const STATUS_REQUESTS = Number(process.env.BENCH_STATUS_REQUESTS ?? 40);
const WARMUP = 5;
const functionResults: Array<{ n: number; label: string; listMs: number; median: number; p99: number; cpuPerRequest: number; rssMb: number }> = [];

function dg(args: string[], cwd: string, env: Record<string, string> = {}): string {
  const r = spawnSync("node", [bin, ...args], { cwd, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`drift-guard ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function benchFunction(dbUrl: string, project: string, v8Flags: string[] = []) {
  dg(["install", "--db-url", dbUrl], project);
  const token = dg(["token", "create", "--db-url", dbUrl, "--scope", "deploy", "--label", `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`], project).trim().split("\n").at(-1)!;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const flags = v8Flags.length ? [`--v8-flags=${v8Flags.join(",")}`] : [];
  const child = spawn(join(root, "node_modules/.bin/deno"), ["run", "--allow-all", ...flags, "--config", join(root, "deno.json"), join(root, "functions/migration-drift/serve.ts")], {
    env: { ...process.env, PORT: String(port), SUPABASE_DB_URL: dbUrl },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((ready) => child.stdout!.on("data", (d) => String(d).includes("listening") && ready()));
  const base = `http://127.0.0.1:${port}/functions/v1/migration-drift`;
  try {
    dg(["manifest", "upload", "--url", base, "--token", token], project);
    const get = async () => {
      const t0 = performance.now();
      const res = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`/status answered ${res.status}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < WARMUP; i++) await get();
    const cpu0 = cpuSeconds(child.pid!);
    const times: number[] = [];
    for (let i = 0; i < STATUS_REQUESTS; i++) times.push(await get());
    const cpuPerRequest = ((cpuSeconds(child.pid!) - cpu0) * 1000) / STATUS_REQUESTS;
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) / 1024;
    times.sort((a, b) => a - b);
    return { median: median(times), p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))], cpuPerRequest, rssMb };
  } finally {
    child.kill();
  }
}

// 2. check vs supabase migration list. Its own cache folder: the initdb cache is filled by a first
// check outside the timings; the replay cache (db/shadow/replay_cache.ts) is emptied before each
// cold run, and kept for the warm ones (the same files checked again).
const cacheDir = mkdtempSync(join(tmpdir(), "dg-bench-cache-"));
process.env.DRIFT_GUARD_CACHE_DIR = cacheDir;
const forgetReplays = () => {
  for (const f of readdirSync(cacheDir)) if (f.startsWith("replay-")) rmSync(join(cacheDir, f), { force: true });
};
const server = await startPostgres();
try {
  console.log(`\ncheck wall time (median of ${runs}; whole process, as a user runs it)`);
  console.log("migrations  check, replay cache cold  warm  --no-evidence  supabase migration list  ratios (cold, warm, --no-evidence)");
  for (const n of sizes) {
    const dbName = `bench_${n}`;
    const admin = postgres(server.url(), { onnotice: () => {} });
    await admin.unsafe(`create database ${dbName}`);
    await admin.end();
    const url = server.url(dbName);
    const sql = postgres(url, { onnotice: () => {} });
    const project = mkdtempSync(join(tmpdir(), "dg-bench-"));
    await writeSyntheticHistory(sql, project, n);
    await sql.end();
    const check = ["check", "--db-url", url, "--format", "json"];
    spawnSync("node", [bin, ...check], { cwd: project, stdio: "ignore" }); // the initdb cache, outside the timings
    const cold = timeCommand("node", [bin, ...check], project, forgetReplays);
    const warm = timeCommand("node", [bin, ...check], project);
    const names = timeCommand("node", [bin, ...check, "--no-evidence"], project);
    const theirs = timeCommand(join(root, "node_modules/.bin/supabase"), ["migration", "list", "--db-url", url, "--output-format", "json", "--workdir", project], project);
    const ms = (x: number) => `${x.toFixed(0)} ms`;
    console.log(`${String(n).padStart(10)}  ${ms(cold).padStart(24)}  ${ms(warm).padStart(8)}  ${ms(names).padStart(13)}  ${ms(theirs).padStart(23)}  ${[cold, warm, names].map((x) => (x / theirs).toFixed(2)).join(", ")}`);
    if (n >= 5000) functionResults.push({ n, label: "", listMs: theirs, ...(await benchFunction(url, project)) });
    // Hosted isolates get 256 MB; with V8's heap capped well below that, does it still serve, and how large is it?
    if (n >= 10000) functionResults.push({ n, label: " (V8 heap capped at 128 MB)", listMs: theirs, ...(await benchFunction(url, project, ["--max-old-space-size=128"])) });
    rmSync(project, { recursive: true, force: true });
  }
  if (functionResults.length) {
    console.log(`\nfunction GET /status, warm (${STATUS_REQUESTS} sequential requests after ${WARMUP} warm-up)`);
    console.log("migrations  median ms  p99 ms  cpu ms/req  rss MB  median / migration list");
    for (const r of functionResults) {
      console.log(`${String(r.n).padStart(10)}  ${r.median.toFixed(1).padStart(9)}  ${r.p99.toFixed(1).padStart(6)}  ${r.cpuPerRequest.toFixed(1).padStart(10)}  ${r.rssMb.toFixed(0).padStart(6)}  ${(r.median / r.listMs).toFixed(2).padStart(23)}${r.label}`);
    }
  }
} finally {
  server.destroy();
  rmSync(cacheDir, { recursive: true, force: true });
}
