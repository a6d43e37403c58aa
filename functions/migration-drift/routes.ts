/**
 * The handlers. Each reads its input, calls the same db adapters and pure core
 * as the CLI, and returns a status and a JSON body. No drift logic lives here.
 */
import { z } from "zod";
import { postgresCatalog, readCatalog, readPlatformSettings } from "../../db/catalog.ts";
import { listAudit } from "../../db/audit.ts";
import { historyFingerprint, newestManifestMeta, readManifest, readManifestIndex, type StoredManifest, storeManifest } from "../../db/function_queries.ts";
import { readHistoryRow } from "../../db/history.ts";
import { type DefinitionJudge, driftReport, type EvidenceDepth, type RepositoryReplayer, type ReplayVerifier } from "../../db/report.ts";
import { repairHistory, undoRepair } from "../../db/repair.ts";
import type { Sql } from "../../db/connect.ts";
import { type Manifest, manifestDigest, manifestMigrations, parseManifest, parseStoredManifest } from "../../shared/manifest.ts";
import { repairJson, validateAuditId, validateReason, validateRepairRequest } from "../../shared/repair_plan.ts";
import { apiSchemaFilter, schemaFingerprint } from "../../shared/schema_diff.ts";
import type { RepairPlan, Report } from "../../shared/types.ts";
import { DriftGuardError, OUTCOMES } from "../../shared/types.ts";
import { notInstalled } from "../../db/database_error.ts";
import { acknowledgeLedger, ledgerFingerprint, ledgerInstalled, ledgerState, parseLedgerIds, readLedger } from "../../db/ledger.ts";
import { hideEntryStatements, hideUntrackedStatements, LEDGER_FILTERS, type LedgerFilter, parseSince } from "../../shared/ledger.ts";
import type { Alerter } from "./alerts.ts";
import { type Caller, hasScope } from "./auth.ts";
import type { Database } from "./database.ts";
import { singleFlight } from "./single_flight.ts";

export interface Context {
  url: URL;
  params: Record<string, string>;
  caller: Caller | null;
  db: Database;
  /** The JSON body, read within the size limit. */
  body(): Promise<unknown>;
  /** Sends new untracked changes to DRIFT_GUARD_WEBHOOK_URL, when set. */
  alert?: Alerter;
  /** Compares definitions (see AppDeps); absent in the hosted function. */
  judgeDefinitions?: DefinitionJudge;
  /** Replays the repository and each suggested repair (see AppDeps); absent in the hosted function. */
  verifyReplay?: ReplayVerifier;
  replayRepository?: RepositoryReplayer;
}

/** Rows without files and files that are not as recorded: what a squash looks like version by version. */
function mayBeSquash(report: Report): boolean {
  const states = new Set(report.migrations.map((m) => m.state));
  return states.has("remote_only") && (states.has("edited") || states.has("pending") || states.has("out_of_order"));
}

/** The folder the manifest's files came from, for the commands a report prints. */
function manifestMigrationsDir(local: readonly { path: string }[]): string | undefined {
  const dirs = new Set(local.map((m) => m.path.slice(0, Math.max(0, m.path.lastIndexOf("/")))));
  return dirs.size === 1 ? [...dirs][0] || undefined : undefined;
}

export interface Reply {
  status: number;
  body: unknown;
  /** `body` already serialized as UTF-8 JSON, for replies served from a cache: encoded once, not per caller. */
  encoded?: Uint8Array;
  /** `encoded`, gzipped once: callers that accept gzip get these bytes (a tenth the size, no per-request compression). */
  gzipped?: Uint8Array;
}

export type Handler = (ctx: Context) => Promise<Reply>;

const noManifest = () =>
  new DriftGuardError("no_manifest", "no manifest has been uploaded yet", "upload one from CI: drift-guard manifest upload --url … --token …");

/** `?since=` as the CLI's --since. */
function sinceParam(url: URL): Date | undefined {
  const raw = url.searchParams.get("since");
  return raw === null ? undefined : parseSince(raw, new Date(), "since");
}

/**
 * The same report as `drift-guard check`, for the manifest's migrations. Evidence by name
 * unless `?evidence=full`: comparing definitions replays the migrations in the embedded
 * shadow, seconds of CPU that a hosted function (2 s CPU per request) cannot always spend.
 */
function reportFor(ctx: Context, sql: Sql, manifest: Manifest, depth: EvidenceDepth): Promise<Report> {
  const { local, problems } = manifestMigrations(manifest);
  const replay = depth === "definitions" ? ctx.verifyReplay : undefined;
  return driftReport(sql, local, problems, {
    evidence: depth,
    judgeDefinitions: ctx.judgeDefinitions,
    since: sinceParam(ctx.url),
    migrationsDir: manifestMigrationsDir(local),
    ...(replay ? { verifyReplay: replay, replayRepository: ctx.replayRepository } : { noReplay: ctx.verifyReplay ? "this report is by name; ?evidence=full replays" : "the deployed function has no embedded shadow" }),
  });
}

/**
 * New untracked changes go to the webhook on every check, cached report or not: a
 * failing webhook costs at most its timeout, never the report, and is retried next time.
 * A sent alert marks its entries, which changes the ledger's fingerprint and so the cache key.
 */
async function alertUntracked(ctx: Context, sql: Sql, untracked: Report["untracked_changes"]): Promise<void> {
  if (ctx.alert && untracked.length) await ctx.alert(sql, untracked);
}

/** `?evidence=full` (definitions) or `?evidence=names` (the default). */
function evidenceDepth(url: URL): EvidenceDepth {
  const v = url.searchParams.get("evidence");
  if (v === null || v === "names") return "names";
  if (v === "full") return "definitions";
  throw new DriftGuardError("bad_input", "evidence must be full or names", "?evidence=full compares what each local-only migration builds with the live catalog");
}

const reportReply = (report: Report, extra: Record<string, unknown> = {}): Reply => ({
  status: OUTCOMES[report.status].http,
  body: { ...report, ...extra },
});

const manifestInfo = ({ id, uploaded_at, uploaded_by, git_commit, git_branch, migration_count }: StoredManifest) => ({
  id, uploaded_at, uploaded_by, git_commit, git_branch, migration_count,
});

/** Throws bad_input naming the first defect of a request body. */
function parseBody<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw new DriftGuardError("bad_input", `invalid request body: ${where}${issue.message}`);
}

const versions = z.array(z.string().regex(/^[0-9]+$/, "versions are digits")).min(1).max(1000);
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex digits>");
const version = z.string().regex(/^[0-9]+$/, "versions are digits");
const repairBody = z.strictObject({
  mark_applied: versions.optional(),
  mark_reverted: versions.optional(),
  // The whole-history repairs (docs/whole-history.md), as `drift-guard repair --move/--squash`.
  move: z.strictObject({ from: version, to: version }).optional(),
  squash: z.strictObject({ rows: versions, into: z.union([version, z.array(version).min(1).max(2)]) }).optional(),
  reason: z.string().optional(),
  expect_digest: digest.optional(),
  expect_plan_digest: digest.optional(),
  force_different: z.boolean().optional(),
});
const undoBody = z.strictObject({ audit_id: z.string(), reason: z.string().optional() });

export const health: Handler = () => Promise.resolve({ status: 200, body: { ok: true } });

/**
 * GET /status's reply, by (manifest id, history fingerprint): the database computes
 * the fingerprint from versions and row versions (db/function_queries.ts), and the
 * report is rebuilt only when the manifest or the history changed. Concurrent
 * requests share one build. A report with catalog evidence (local-only migrations)
 * is reused for a few seconds only, as the catalog can change without the history
 * changing.
 */
const statusFlight = singleFlight<{ reply: Reply; builtAt: number; hasEvidence: boolean; untracked: Report["untracked_changes"] }>();
const EVIDENCE_REUSE_MS = 5_000;

export const status: Handler = (ctx) =>
  ctx.db.run(async (sql) => {
    const depth = evidenceDepth(ctx.url);
    const meta = await newestManifestMeta(sql);
    if (!meta) throw noManifest();
    const fingerprint = await historyFingerprint(sql);
    // New DDL, acknowledgements and links change the report without touching the history.
    const key = `${meta.id} ${fingerprint} ${await ledgerFingerprint(sql)} ${ctx.url.searchParams.get("since") ?? ""} ${depth}`;
    const build = async () => {
      // By name, the database reads the statements; comparing definitions replays every one.
      let manifest = (depth === "names" ? await readManifestIndex(sql, meta.id) : null) ?? await readManifest(sql, meta.id, parseStoredManifest);
      let report = await reportFor(ctx, sql, manifest, depth);
      // A squash is matched by what the files build, which the index (statements left in the
      // database) cannot tell: rows without files beside files without rows, or edited, need them.
      if (manifest.migrations.some((m) => "statementsHash" in m) && mayBeSquash(report)) {
        manifest = await readManifest(sql, meta.id, parseStoredManifest);
        report = await reportFor(ctx, sql, manifest, depth);
      }
      // One cached reply serves every scope, so it carries no statement text (GET /ledger with a
      // repair token shows it): a statement may hold a secret, and read tokens go to every CI job.
      const shown = { ...report, untracked_changes: hideUntrackedStatements(report.untracked_changes) };
      const reply = reportReply(shown, { manifest: manifestInfo(meta), manifest_digest: manifestDigest(manifest) });
      // A history that changed while the report was read is served, not cached under the old key.
      if (await historyFingerprint(sql) !== fingerprint) queueMicrotask(() => statusFlight.forget(key));
      const encoded = new TextEncoder().encode(JSON.stringify(reply.body));
      const gzipped = new Uint8Array(await new Response(new Blob([encoded]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
      return { reply: { status: reply.status, body: null, encoded, gzipped }, builtAt: Date.now(), hasEvidence: report.migrations.some((m) => m.evidence) || report.untracked_changes.length > 0, untracked: report.untracked_changes };
    };
    let cached = await statusFlight.get(key, build);
    if (cached.hasEvidence && Date.now() - cached.builtAt > EVIDENCE_REUSE_MS) {
      statusFlight.forget(key);
      cached = await statusFlight.get(key, build);
    }
    await alertUntracked(ctx, sql, cached.untracked);
    return cached.reply;
  });

export const drift: Handler = async (ctx) => {
  const depth = evidenceDepth(ctx.url);
  const manifest = parseManifest(await ctx.body());
  // The digest of the manifest this report is about: `check --url` verifies it is the one it sent.
  const report = await ctx.db.run(async (sql) => {
    const built = await reportFor(ctx, sql, manifest, depth);
    await alertUntracked(ctx, sql, built.untracked_changes);
    return built;
  });
  const shown = hasScope(ctx.caller!, "repair") ? report : { ...report, untracked_changes: hideUntrackedStatements(report.untracked_changes) };
  return reportReply(shown, { manifest_digest: manifestDigest(manifest) });
};

export const putManifest: Handler = async (ctx) => {
  const manifest = parseManifest(await ctx.body());
  const stored = await ctx.db.run((sql) => storeManifest(sql, manifest, ctx.caller!.actor));
  return { status: 201, body: { stored: true, manifest: manifestInfo(stored) } };
};

/** Applying pins the plan digest the reviewer saw (as expect_digest, or expect_plan_digest); repairHistory refuses a bare history digest. */
function expectation(body: z.infer<typeof repairBody>) {
  if (body.expect_digest === undefined && body.expect_plan_digest === undefined) return undefined;
  return { digest: body.expect_digest, planDigest: body.expect_plan_digest };
}

export const repair: Handler = async (ctx) => {
  const body = parseBody(repairBody, await ctx.body());
  const request = {
    markApplied: body.mark_applied,
    markReverted: body.mark_reverted,
    reason: body.reason,
    forceDifferent: body.force_different === true,
    ...(body.move ? { move: body.move } : {}),
    ...(body.squash ? { squash: { rows: body.squash.rows, into: [body.squash.into].flat() } } : {}),
  };
  // A bad reason or version is 400 before anything is read, expect_digest or not.
  validateRepairRequest(request);
  const result = await ctx.db.run(async (sql): Promise<RepairPlan> => {
    const meta = await newestManifestMeta(sql);
    // Names and statements of the files to record come from the newest uploaded manifest.
    if (!meta && (body.mark_applied?.length || body.move || body.squash)) throw noManifest();
    const local = meta ? manifestMigrations(await readManifest(sql, meta.id, parseStoredManifest)).local : [];
    return await repairHistory(sql, request, local, expectation(body), ctx.caller!.actor, { judgeDefinitions: ctx.judgeDefinitions });
  });

  return { status: 200, body: repairJson(result) };
};

export const undo: Handler = async (ctx) => {
  const body = parseBody(undoBody, await ctx.body());
  const auditId = validateAuditId(body.audit_id);
  const reason = validateReason(body.reason);
  const result = await ctx.db.run((sql) => undoRepair(sql, auditId, reason, ctx.caller!.actor));
  return { status: 200, body: { dry_run: false, audit_id: result.audit_id, history_digest: result.history_digest, undoes: auditId } };
};

export const history: Handler = async (ctx) => {
  const version = ctx.params.version;
  if (!/^[0-9]{1,64}$/.test(version)) throw new DriftGuardError("bad_input", "a version is digits, as in <version>_<name>.sql");
  const row = await ctx.db.run((sql) => readHistoryRow(sql, version));
  if (!row) throw new DriftGuardError("not_found", `the migration history has no version ${version}`, "GET /status lists the versions it holds");
  return { status: 200, body: row };
};

/** An audit actor without its personal details (e-mail, host name). */
function redactActor(actor: Record<string, unknown>): Record<string, unknown> {
  const out = { ...actor };
  for (const key of ["email", "host"]) if (key in out) out[key] = "(hidden from this scope)";
  return out;
}

export const audit: Handler = async (ctx) => {
  const raw = ctx.url.searchParams.get("limit");
  const limit = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new DriftGuardError("bad_input", "limit must be a whole number from 1 to 1000");
  const entries = await ctx.db.run((sql) => listAudit(sql, limit));
  // Read and deploy tokens go to every CI job: they see who acted by label or user id, not e-mail or host.
  const identities = hasScope(ctx.caller!, "repair");
  return { status: 200, body: { entries: identities ? entries : entries.map((e) => ({ ...e, actor: redactActor(e.actor) })) } };
};

/** `?include_schema=a,b&exclude_schema=c` (repeatable), as the CLI's --include-schema/--exclude-schema. */
function schemaList(url: URL, name: string): string[] | undefined {
  const values = url.searchParams.getAll(name).flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
  if (values.length > 100 || values.some((s) => s.length > 63)) throw new DriftGuardError("bad_input", `${name}: at most 100 schema names of at most 63 characters`);
  return values.length ? values : undefined;
}

/**
 * The live schema's fingerprint: the same normalized snapshot db/catalog.ts reads for
 * `schema-diff --db-url`, the platform facts the shadow copies, and the digest.
 */
export const schema: Handler = async (ctx) => {
  const filter = apiSchemaFilter(schemaList(ctx.url, "include_schema"), schemaList(ctx.url, "exclude_schema"));
  const body = await ctx.db.run(async (sql) => {
    const conn = postgresCatalog(sql);
    const settings = await readPlatformSettings(conn);
    return schemaFingerprint(await readCatalog(conn, filter), filter, settings);
  });
  return { status: 200, body };
};

/** GET /ledger?since=&until=&object=&status=&limit=: the ledger's entries, oldest first. */
export const ledger: Handler = async (ctx) => {
  const q = ctx.url.searchParams;
  const status = (q.get("status") ?? "all") as LedgerFilter;
  if (!LEDGER_FILTERS.includes(status)) throw new DriftGuardError("bad_input", `status must be one of ${LEDGER_FILTERS.join(", ")}`);
  const limit = q.get("limit") === null ? 1000 : Number(q.get("limit"));
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new DriftGuardError("bad_input", "limit must be a whole number from 1 to 10000");
  const object = q.get("object") ?? undefined;
  if (object !== undefined && object.length > 200) throw new DriftGuardError("bad_input", "object: at most 200 characters");
  const query = {
    since: sinceParam(ctx.url),
    until: q.get("until") === null ? undefined : parseSince(q.get("until")!, new Date(), "until"),
    object,
    status,
    limit,
  };
  const body = await ctx.db.run(async (sql) => {
    if (!(await ledgerInstalled(sql))) throw notInstalled("the DDL ledger");
    const entries = await readLedger(sql, query);
    // Statements may carry secrets: below repair scope they read "(hidden from this scope)".
    return { ledger: await ledgerState(sql), entries: hasScope(ctx.caller!, "repair") ? entries : hideEntryStatements(entries) };
  });
  return { status: 200, body };
};

const ackBody = z.strictObject({
  ids: z.array(z.union([z.string(), z.number()])).min(1).max(10_000),
  reason: z.string().optional(),
});

/** POST /ledger/ack { ids, reason }: marks entries reviewed; audited like a repair. */
export const ledgerAck: Handler = async (ctx) => {
  const body = parseBody(ackBody, await ctx.body());
  const ids = parseLedgerIds(body.ids);
  const reason = validateReason(body.reason);
  const result = await ctx.db.run(async (sql) => {
    if (!(await ledgerInstalled(sql))) throw notInstalled("the DDL ledger");
    return await acknowledgeLedger(sql, ids, reason, ctx.caller!.actor);
  });
  return { status: 200, body: { acknowledged: result.acknowledged, audit_id: result.audit_id, ids } };
};
