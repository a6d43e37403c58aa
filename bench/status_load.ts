/**
 * npm run bench (part 3): GET /status under load. Prints numbers, asserts nothing.
 * At BENCH_LOAD_SIZE migrations (default 10,000), BENCH_LOAD_CLIENTS clients
 * (default 200) call /status in a loop for BENCH_LOAD_SECONDS (default 20)
 * against `npm run serve` with DENO_V8_FLAGS=--max-old-space-size=128, as the
 * hosted 256 MB isolate would need. Reports: whether the server crashed, the
 * count of each status, 503s without Retry-After, latency of the 200s, peak RSS
 * (VmHWM), and server CPU per warm /status (sequential, after the load). The manifest
 * upload runs on its own instance first, as a deploy's does; its peak is printed too,
 * with the peak of one cold /status on that same instance. BENCH_TRACE=1 also prints the
 * server's RSS every 0.5 s of the load.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { startPostgres } from "../tests/harness/postgres.ts";
import { writeSyntheticHistory } from "./synthetic_history.ts";

const root = new URL("..", import.meta.url).pathname;
const size = Number(process.env.BENCH_LOAD_SIZE ?? 10_000);
const clients = Number(process.env.BENCH_LOAD_CLIENTS ?? 200);
const seconds = Number(process.env.BENCH_LOAD_SECONDS ?? 20);
const heapFlag = process.env.BENCH_LOAD_V8_FLAGS ?? "--max-old-space-size=128";


function dg(args: string[], cwd: string): string {
  const r = spawnSync("node", [join(root, "bin/drift-guard.js"), ...args], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`drift-guard ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

function procStatus(pid: number, field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The `serve` script's deno arguments, so the bench runs what users run. */
function serveArgs(): string[] {
  const script: string = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts.serve;
  return script.split(/\s+/).slice(1);
}

const server = await startPostgres();
const project = mkdtempSync(join(tmpdir(), "dg-bench-load-"));
try {
  const admin = postgres(server.url(), { onnotice: () => {} });
  await admin.unsafe("create database bench_load");
  await admin.end();
  const url = server.url("bench_load");
  const sql = postgres(url, { onnotice: () => {} });
  await writeSyntheticHistory(sql, project, size);
  await sql.end();
  dg(["install", "--db-url", url], project);
  const token = dg(["token", "create", "--db-url", url, "--scope", "deploy", "--label", "bench-load"], project).trim().split("\n").at(-1)!;

  /** One `npm run serve` instance, as the bench runs it: its own port, the heap cap, stderr kept. */
  async function startServe() {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(join(root, "node_modules/.bin/deno"), serveArgs(), {
      cwd: root,
      env: { ...process.env, PORT: String(port), SUPABASE_DB_URL: url, DENO_V8_FLAGS: heapFlag },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const state = { child, output: "", stdout: "", exit: null as string | null, base: `http://127.0.0.1:${port}/functions/v1/migration-drift` };
    child.stderr!.on("data", (d) => (state.output += d));
    child.stdout!.on("data", (d) => (state.stdout += d));
    child.on("exit", (code, signal) => (state.exit = `exit ${code ?? ""}${signal ?? ""}`));
    // A server that exits first (bad V8 flags, a port in use) fails the bench, which then cleans up.
    await new Promise<void>((ready, fail) => {
      child.stdout!.on("data", (d) => String(d).includes("listening") && ready());
      child.on("exit", () => fail(new Error(`npm run serve exited before listening (${state.exit}): ${state.output.slice(-2000)}`)));
    });
    return state;
  }

  // The deploy's upload and the checks that follow are separate invocations: one instance
  // takes the PUT (and, as it may, one cold /status after it), a fresh one takes the load.
  const uploader = await startServe();
  let uploadPeak: number;
  let uploaderPeak: number;
  try {
    dg(["manifest", "upload", "--url", uploader.base, "--token", token], project);
    uploadPeak = procStatus(uploader.child.pid!, "VmHWM");
    await (await fetch(`${uploader.base}/status`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
    uploaderPeak = procStatus(uploader.child.pid!, "VmHWM");
  } finally {
    uploader.child.kill();
  }

  const instance = await startServe();
  const { child, base } = instance;
  try {
    const headers = { authorization: `Bearer ${token}` };

    const counts = new Map<string, number>();
    const latencies: number[] = [];
    let missingRetryAfter = 0;
    const deadline = performance.now() + seconds * 1000;
    const samples: number[] = [];
    const sampler = setInterval(() => { try { samples.push(procStatus(child.pid!, "VmRSS")); } catch { /* gone */ } }, 500);
    const clientCpu0 = process.cpuUsage();
    const cpu0 = cpuSeconds(child.pid!);
    await Promise.all(Array.from({ length: clients }, async () => {
      while (performance.now() < deadline && instance.exit === null) {
        const t0 = performance.now();
        let key: string;
        try {
          const res = await fetch(`${base}/status`, { headers });
          await res.arrayBuffer();
          key = String(res.status);
          if (res.status === 200) latencies.push(performance.now() - t0);
          if (res.status === 503 && !res.headers.get("retry-after")) missingRetryAfter++;
          if (res.status === 503) await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1) * Math.random()));
        } catch (err) {
          key = `network error (${(err as Error).name})`;
          await new Promise((r) => setTimeout(r, 100));
        }
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }));
    const loadCpu = cpuSeconds(child.pid!) - cpu0;
    clearInterval(sampler);
    if (process.env.BENCH_TRACE) {
      console.log("rss samples", samples.map((x) => x.toFixed(0)).join(" "));
      // With --trace-gc among the V8 flags: the full collections, which show the live heap.
      for (const line of instance.stdout.split("\n").filter((l) => /Mark-Compact/.test(l))) console.log(line.slice(0, 160));
    }
    const clientCpu = process.cpuUsage(clientCpu0);

    // Warm, sequential: the server CPU one /status costs.
    const warm = 50;
    for (let i = 0; i < 5; i++) await (await fetch(`${base}/status`, { headers })).arrayBuffer();
    const cpu1 = cpuSeconds(child.pid!);
    const warmTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < warm; i++) {
      const t0 = performance.now();
      bytes = (await (await fetch(`${base}/status`, { headers })).arrayBuffer()).byteLength;
      warmTimes.push(performance.now() - t0);
    }
    const cpuPerStatus = ((cpuSeconds(child.pid!) - cpu1) * 1000) / warm;
    warmTimes.sort((a, b) => a - b);
    const peakRss = instance.exit === null ? procStatus(child.pid!, "VmHWM") : NaN;

    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(0) : "-";
    console.log(`\nGET /status under load: ${size} migrations, ${clients} clients for ${seconds} s, npm run serve with DENO_V8_FLAGS=${heapFlag}`);
    console.log(`  crashed:                ${instance.exit === null ? "no" : `yes (${instance.exit})`}${/out of memory/i.test(instance.output) ? " — out of memory" : ""}`);
    console.log(`  answers:                ${[...counts].sort().map(([k, v]) => `${k}: ${v}`).join(", ")}`);
    console.log(`  503 without Retry-After: ${missingRetryAfter}`);
    console.log(`  200 latency:            median ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
    console.log(`  server CPU under load:  ${(loadCpu / seconds * 100).toFixed(0)}% of one core (this load generator: ${((clientCpu.user + clientCpu.system) / 1e4 / seconds).toFixed(0)}%)`);
    console.log(`  peak RSS (VmHWM):       ${peakRss.toFixed(0)} MB for the load on a fresh instance; ${uploadPeak.toFixed(0)} MB for the PUT /manifest, ${uploaderPeak.toFixed(0)} MB after one cold /status on that same instance`);
    console.log(`  server CPU per warm /status (sequential, ${warm} requests): ${cpuPerStatus.toFixed(1)} ms; wall median ${warmTimes[warm >> 1].toFixed(1)} ms; body ${(bytes / 1e6).toFixed(1)} MB`);
  } finally {
    child.kill();
  }
} finally {
  rmSync(project, { recursive: true, force: true });
  server.destroy();
}
