/**
 * The handlers. Each reads its input, calls the same db adapters and pure core
 * as the CLI, and returns a status and a JSON body. No drift logic lives here.
 */
import { z } from "zod";
import { postgresCatalog, readCatalog, readPlatformSettings } from "../../db/catalog.ts";
import { listAudit } from "../../db/audit.ts";
import { newestManifest, type StoredManifest, storeManifest } from "../../db/function_queries.ts";
import { readHistoryRow } from "../../db/history.ts";
import { driftReport, type EvidenceDepth } from "../../db/report.ts";
import { repairHistory, undoRepair } from "../../db/repair.ts";
import type { Sql } from "../../db/connect.ts";
import { type Manifest, manifestMigrations, parseManifest } from "../../shared/manifest.ts";
import { repairJson, validateReason } from "../../shared/repair_plan.ts";
import { schemaFilter, schemaFingerprint } from "../../shared/schema_diff.ts";
import type { RepairPlan, Report } from "../../shared/types.ts";
import { DriftGuardError } from "../../shared/types.ts";
import type { Caller } from "./auth.ts";
import type { Database } from "./database.ts";

export interface Context {
  url: URL;
  params: Record<string, string>;
  caller: Caller | null;
  db: Database;
  /** The JSON body, read within the size limit. */
  body(): Promise<unknown>;
}

export interface Reply {
  status: number;
  body: unknown;
}

export type Handler = (ctx: Context) => Promise<Reply>;

const noManifest = () =>
  new DriftGuardError("no_manifest", "no manifest has been uploaded yet", "upload one from CI: drift-guard manifest upload --url … --token …");

/**
 * The same report as `drift-guard check`, for the manifest's migrations. Evidence by name
 * unless `?evidence=full`: comparing definitions replays the migrations in the embedded
 * shadow, seconds of CPU that a hosted function (2 s CPU per request) cannot always spend.
 */
function reportFor(sql: Sql, manifest: Manifest, depth: EvidenceDepth): Promise<Report> {
  const { local, problems } = manifestMigrations(manifest);
  return driftReport(sql, local, problems, { evidence: depth });
}

/** `?evidence=full` (definitions) or `?evidence=names` (the default). */
function evidenceDepth(url: URL): EvidenceDepth {
  const v = url.searchParams.get("evidence");
  if (v === null || v === "names") return "names";
  if (v === "full") return "definitions";
  throw new DriftGuardError("bad_input", "evidence must be full or names", "?evidence=full compares what each local-only migration builds with the live catalog");
}

const reportReply = (report: Report, extra: Record<string, unknown> = {}): Reply => ({
  status: report.status === "in_sync" ? 200 : 409,
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
const repairBody = z.strictObject({
  mark_applied: versions.optional(),
  mark_reverted: versions.optional(),
  reason: z.string().optional(),
  expect_digest: digest.optional(),
  force_different: z.boolean().optional(),
});
const undoBody = z.strictObject({ audit_id: z.string(), reason: z.string().optional() });

export const health: Handler = () => Promise.resolve({ status: 200, body: { ok: true } });

/** The last manifest this instance parsed, by id: warm requests skip re-validating it. */
let manifestCache: { id: number; manifest: Manifest } | null = null;

async function newest(sql: Sql) {
  const found = await newestManifest(sql, manifestCache, parseManifest);
  if (found) manifestCache = { id: found.meta.id, manifest: found.manifest };
  return found;
}

export const status: Handler = (ctx) =>
  ctx.db.run(async (sql) => {
    const depth = evidenceDepth(ctx.url);
    const found = await newest(sql);
    if (!found) throw noManifest();
    return reportReply(await reportFor(sql, found.manifest, depth), { manifest: manifestInfo(found.meta) });
  });

export const drift: Handler = async (ctx) => {
  const depth = evidenceDepth(ctx.url);
  const manifest = parseManifest(await ctx.body());
  return reportReply(await ctx.db.run((sql) => reportFor(sql, manifest, depth)));
};

export const putManifest: Handler = async (ctx) => {
  const manifest = parseManifest(await ctx.body());
  const stored = await ctx.db.run((sql) => storeManifest(sql, manifest, ctx.caller!.actor));
  return { status: 201, body: { stored: true, manifest: manifestInfo(stored) } };
};

export const repair: Handler = async (ctx) => {
  const body = parseBody(repairBody, await ctx.body());
  const result = await ctx.db.run(async (sql): Promise<RepairPlan> => {
    const found = await newest(sql);
    if (!found && body.mark_applied?.length) throw noManifest();
    const local = found ? manifestMigrations(found.manifest).local : [];
    const request = { markApplied: body.mark_applied, markReverted: body.mark_reverted, reason: body.reason, forceDifferent: body.force_different === true };
    return await repairHistory(sql, request, local, body.expect_digest, ctx.caller!.actor);
  });

  return { status: 200, body: repairJson(result) };
};

export const undo: Handler = async (ctx) => {
  const body = parseBody(undoBody, await ctx.body());
  const reason = validateReason(body.reason);
  const result = await ctx.db.run((sql) => undoRepair(sql, body.audit_id, reason, ctx.caller!.actor));
  return { status: 200, body: { dry_run: false, audit_id: result.audit_id, history_digest: result.history_digest, undoes: body.audit_id } };
};

export const history: Handler = async (ctx) => {
  const version = ctx.params.version;
  if (!/^[0-9]{1,64}$/.test(version)) throw new DriftGuardError("bad_input", "a version is digits, as in <version>_<name>.sql");
  const row = await ctx.db.run((sql) => readHistoryRow(sql, version));
  if (!row) throw new DriftGuardError("not_found", `the migration history has no version ${version}`, "GET /status lists the versions it holds");
  return { status: 200, body: row };
};

export const audit: Handler = async (ctx) => {
  const raw = ctx.url.searchParams.get("limit");
  const limit = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new DriftGuardError("bad_input", "limit must be a whole number from 1 to 1000");
  const entries = await ctx.db.run((sql) => listAudit(sql, limit));
  return { status: 200, body: { entries } };
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
  const filter = schemaFilter(schemaList(ctx.url, "include_schema"), schemaList(ctx.url, "exclude_schema"));
  const body = await ctx.db.run(async (sql) => {
    const conn = postgresCatalog(sql);
    const settings = await readPlatformSettings(conn);
    return schemaFingerprint(await readCatalog(conn, filter), filter, settings);
  });
  return { status: 200, body };
};
