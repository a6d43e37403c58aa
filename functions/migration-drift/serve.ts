/**
 * `npm run serve`: the same app as the hosted entrypoint, with plain Deno, at
 * http://127.0.0.1:$PORT/functions/v1/migration-drift/<route> (PORT defaults to 54321).
 * The database comes from SUPABASE_DB_URL.
 */
import type { DefinitionJudge, RepositoryReplayer, ReplayVerifier } from "../../db/report.ts";
import { appFromEnv } from "./environment.ts";

/**
 * Comparing definitions needs the embedded shadow (PGlite): loaded on the first request
 * that compares, not at start-up, so an instance that only serves cached reports does
 * not carry it (tens of MB of RSS).
 */
const judgeDefinitions: DefinitionJudge = async (...args) =>
  (await import("../../db/definition_evidence.ts")).collectDefinitionEvidence(...args);
const verifyReplay: ReplayVerifier = async (...args) => (await import("../../db/history_replay.ts")).verifyHistoryReplay(...args);
const replayRepository: RepositoryReplayer = async (...args) => (await import("../../db/history_replay.ts")).replayRepository(...args);

const port = Number(Deno.env.get("PORT") || 54321);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`migration-drift: PORT must be a port number, not "${Deno.env.get("PORT")}"`);
  Deno.exit(2);
}
if (!Deno.env.get("SUPABASE_DB_URL")) console.error("migration-drift: SUPABASE_DB_URL is not set; every database route will answer 503");

// `npm run serve` and `drift-guard serve` run this file as a child. A parent killed without passing
// the signal on (SIGKILL, a CI step's timeout) leaves this process with another parent: it stops then,
// rather than serve on with nobody to stop it. Started by init (parent pid 1), it has no parent to lose.
const parentPid = Deno.ppid;
if (parentPid !== 1) {
  const orphanWatch = setInterval(() => {
    if (Deno.ppid === parentPid) return;
    console.error("migration-drift: the process that started this server is gone; stopping");
    Deno.exit(0);
  }, 250);
  Deno.unrefTimer(orphanWatch);
}

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ hostname, port }) => console.log(`migration-drift listening on http://${hostname}:${port}/functions/v1/migration-drift/`),
  // Locally the embedded shadow is available, so ?evidence=full and repair plans compare definitions, and findings are proved by replay.
}, appFromEnv(undefined, { judgeDefinitions, verifyReplay, replayRepository }));
