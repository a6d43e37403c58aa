/**
 * The MCP tools' input and output schemas (zod, published as JSON Schema by the SDK).
 * Inputs are strict: an unknown key (a typo such as "expect_digest") is refused with
 * a message that names the right key, rather than ignored. Outputs are the shapes
 * `--format json` prints, loose so that fields added later pass.
 */
import { z } from "zod";
import { DRIFT_STATES, type HistoryFinding } from "../../shared/types.ts";
import { LEDGER_FILTERS } from "../../shared/ledger.ts";

/** The whole-history finding kinds (shared/history_matching.ts). */
const FINDING_KINDS = ["moved", "squashed", "renumber", "ambiguous"] as const satisfies readonly HistoryFinding["kind"][];

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const versions = (key: string) =>
  z.array(z.string({ error: `${key}: each version is a string of digits, e.g. "20240101000000"` })
    .regex(/^[0-9]{1,64}$/, { error: `${key}: a version is digits only, as in <version>_<name>.sql (check lists them)` }))
    .min(1, { error: `${key}: give at least one version` })
    .max(10_000, { error: `${key}: at most 10000 versions per repair` });

const reason = z.string({ error: "reason is required: say why, in words a reviewer understands (it is kept in the audit log)" })
  .min(1, { error: "reason is required: it may not be empty" })
  .max(2000, { error: "reason: at most 2000 characters" });

/** check: what to compare. */
export const checkInput = z.strictObject({
  evidence: z.boolean({ error: "evidence is true or false" }).optional()
    .describe("compare definitions for local-only migrations in an embedded shadow database (default true; slower, seconds)"),
  since: z.string({ error: "since is an ISO time or a duration such as 7d" }).max(100).optional()
    .describe("report untracked DDL since this ISO time or duration (7d, 24h); default: since the ledger was installed"),
});

const version = (key: string) =>
  z.string({ error: `${key}: a version is a string of digits, e.g. "20240101000000"` })
    .regex(/^[0-9]{1,64}$/, { error: `${key}: a version is digits only, as in <version>_<name>.sql (check lists them)` });

const repairFields = {
  mark_applied: versions("mark_applied").optional()
    .describe("versions to record as applied WITHOUT running their SQL (right only if the SQL already ran: evidence says so)"),
  mark_reverted: versions("mark_reverted").optional()
    .describe("versions whose history row to DELETE (right only if the SQL never ran; never for remote_only rows)"),
  move: z.strictObject({
    from: version("move.from").describe("the history row's version"),
    to: version("move.to").describe("the local file's version"),
  }).optional()
    .describe("rewrite one history row's version to its file's: the fix for a `moved` or `renumber` finding (one migration recorded under another version)"),
  squash: z.strictObject({
    rows: versions("squash.rows").describe("the history rows folded into the squash file"),
    into: z.union([version("squash.into"), versions("squash.into")])
      .describe("the squash file's version, or [it, the file recording what else the rows left live] (drift-guard fetch --live-definitions writes that file)"),
  }).optional()
    .describe("delete these history rows, folded into one file, and record that file: the fix for a `squashed` finding"),
  reason,
  force_different: z.boolean({ error: "force_different is true or false" }).optional()
    .describe("mark applied even migrations whose objects exist with other definitions, once a new migration records the live definitions"),
};

/** plan_repair: one kind of mark, and why. */
export const planInput = z.strictObject(repairFields);

/** apply_repair: the same, pinned to the reviewed plan. */
export const applyInput = z.strictObject({
  ...repairFields,
  plan_digest: z.string({ error: "plan_digest is required: call plan_repair with the same inputs and pass the plan_digest it returns" })
    .regex(DIGEST, { error: "plan_digest looks like sha256:<64 hex digits>: the plan_digest that plan_repair returned" }),
});

export const undoInput = z.strictObject({
  audit_id: z.string({ error: "audit_id is required: the audit_id apply_repair returned (a UUID)" }).max(100),
  reason,
});

export const fetchInput = z.strictObject({
  versions: versions("versions").optional()
    .describe("remote_only versions to write out (default: every remote_only one)"),
});

export const ledgerInput = z.strictObject({
  since: z.string().max(100).optional().describe("entries since this ISO time or duration (7d, 24h, 90m)"),
  until: z.string().max(100).optional().describe("entries before this ISO time or duration"),
  object: z.string().max(200).optional().describe("entries whose object identity contains this text"),
  status: z.enum(LEDGER_FILTERS, { error: `status is one of ${LEDGER_FILTERS.join(", ")}` }).optional()
    .describe("which entries (default all)"),
  limit: z.number({ error: "limit is a whole number from 1 to 10000" }).int().min(1).max(10_000).optional()
    .describe("at most this many entries, the newest (default 1000)"),
});

const digest = z.string();
const migrationSide = z.looseObject({ checksum: z.string().nullable() }).nullable();

export const reportOutput = z.looseObject({
  status: z.enum(["in_sync", "drift"]),
  summary: z.looseObject(Object.fromEntries(DRIFT_STATES.map((s) => [s, z.number()]))),
  history_digest: digest,
  migrations: z.array(z.looseObject({ version: z.string(), name: z.string(), state: z.enum(DRIFT_STATES), local: migrationSide, remote: migrationSide })),
  actions: z.array(z.looseObject({ kind: z.string(), versions: z.array(z.string()), explain: z.string(), command: z.string() })),
  problems: z.array(z.looseObject({ level: z.enum(["warning", "error"]), file: z.string(), message: z.string() })),
  untracked_changes: z.array(z.looseObject({})).optional(),
  /** Whole-history findings (moved, squashed, renumber, ambiguous), each with its suggested repair. */
  findings: z.array(z.looseObject({
    kind: z.enum(FINDING_KINDS),
    versions: z.array(z.string()),
    from: z.array(z.string()),
    to: z.string().nullable(),
    explain: z.string(),
    command: z.string().nullable(),
  })),
  /** Whether the repository replays from zero to what is live; absent when not checked. */
  replay: z.looseObject({ status: z.enum(["ok", "failed", "differs", "skipped"]), migrations: z.number(), summary: z.string() }).optional(),
});

const change = z.looseObject({ op: z.enum(["insert", "update", "delete"]), version: z.string(), name: z.string(), statements_checksum: z.string().nullable() });

/** A dry-run plan, an applied result, or (approval required) the verified plan with the command a person runs. */
export const repairOutput = z.looseObject({
  dry_run: z.boolean(),
  history_digest: digest,
  plan_digest: digest,
  changes: z.array(change),
  audit_id: z.string().nullable(),
  reason: z.string(),
  explain: z.array(z.string()),
  approval_required: z.boolean().optional(),
  command: z.string().optional(),
  cwd: z.string().optional(),
});

export const undoOutput = z.looseObject({
  dry_run: z.boolean(),
  undoes: z.string(),
  audit_id: z.string().optional(),
  history_digest: z.string().optional(),
  approval_required: z.boolean().optional(),
  command: z.string().optional(),
  cwd: z.string().optional(),
});

export const fetchOutput = z.looseObject({
  migrations_dir: z.string(),
  written: z.array(z.looseObject({ version: z.string(), path: z.string(), round_trips: z.boolean() })),
  skipped: z.array(z.looseObject({ version: z.string(), why: z.string() })),
});

export const ledgerOutput = z.looseObject({
  ledger: z.looseObject({ active: z.boolean() }),
  entries: z.array(z.looseObject({ id: z.string(), status: z.string() })),
});

export type CheckInput = z.infer<typeof checkInput>;
export type PlanInput = z.infer<typeof planInput>;
export type ApplyInput = z.infer<typeof applyInput>;
export type UndoInput = z.infer<typeof undoInput>;
export type FetchInput = z.infer<typeof fetchInput>;
export type LedgerInput = z.infer<typeof ledgerInput>;
