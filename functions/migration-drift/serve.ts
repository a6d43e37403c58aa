/**
 * `npm run serve`: the same app as the hosted entrypoint, with plain Deno, at
 * http://127.0.0.1:$PORT/functions/v1/migration-drift/<route> (PORT defaults to 54321).
 * The database comes from SUPABASE_DB_URL.
 */
import { collectDefinitionEvidence } from "../../db/definition_evidence.ts";
import { appFromEnv } from "./environment.ts";

const port = Number(Deno.env.get("PORT") || 54321);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`migration-drift: PORT must be a port number, not "${Deno.env.get("PORT")}"`);
  Deno.exit(2);
}
if (!Deno.env.get("SUPABASE_DB_URL")) console.error("migration-drift: SUPABASE_DB_URL is not set; every database route will answer 503");

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ hostname, port }) => console.log(`migration-drift listening on http://${hostname}:${port}/functions/v1/migration-drift/`),
  // Locally the embedded shadow is available, so ?evidence=full and repair plans compare definitions.
}, appFromEnv(undefined, { judgeDefinitions: collectDefinitionEvidence }));
