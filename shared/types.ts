/** The public contract (../shared/contract.md) as types. Add fields freely; never rename. */

export const DRIFT_STATES = ["in_sync", "edited", "renamed", "pending", "out_of_order", "remote_only"] as const;
export type DriftState = typeof DRIFT_STATES[number];

/** A migration as the repository has it: a file, or an entry of an uploaded manifest. */
export interface LocalMigration {
  version: string;
  name: string;
  path: string;
  checksum: string;
  statements: string[];
  /**
   * sha256 (hex) of statementsEncoding(statements), set when the statements were left in
   * the database (the function's stored manifest, read by db/function_queries.ts's
   * readManifestIndex): `statements` is then empty, and a history row with the same hash
   * shares that empty array.
   */
  statementsHash?: string;
}

/** A row of supabase_migrations.schema_migrations. */
export interface RemoteMigration {
  version: string;
  name: string | null;
  statements: string[] | null;
}

export interface Problem {
  level: "warning" | "error";
  file: string;
  message: string;
}

/** One object a local-only migration creates or alters, and what the live database has of it. */
export interface EvidenceObject {
  kind: string;
  name: string;
  /** Exists live (by name). */
  present: boolean;
  /** By definition (basis "definition"): the same as the migration builds it, different, or missing live. */
  state?: "identical" | "different" | "missing";
  /** What differs, live first: "column public.orders.total: text live, numeric in the file". */
  differences?: string[];
}

/**
 * What the catalog says about a local-only migration (see evidence.ts and definition_evidence.ts).
 * basis "definition": identical / different / absent / partial / unknown, from comparing what the
 * migration builds in a shadow with the live catalog. basis "name" (or no basis): present / absent /
 * partial / unknown, from looking the names up only; "present" is not proof that the same SQL ran.
 */
export interface Evidence {
  verdict: "identical" | "different" | "present" | "absent" | "partial" | "unknown";
  basis?: "definition" | "name";
  objects: EvidenceObject[];
  /** basis "definition": every difference, one line each. */
  differences?: string[];
  /** unknown: why. */
  reason?: string;
  notes?: string[];
  /** different: a new migration that records what the live database has (schema-diff's SQL for these objects). */
  live_migration?: { file: string; version: string; sql: string; notes: string[] };
}

export interface MigrationEntry {
  version: string;
  name: string;
  state: DriftState;
  local: { path: string; checksum: string } | null;
  remote: { name: string; checksum: string | null } | null;
  evidence?: Evidence;
}

export interface Action {
  kind: string;
  versions: string[];
  explain: string;
  command: string;
}

export type Summary = Record<DriftState, number>;

/**
 * A whole-history finding (shared/history_matching.ts): several versions that are one story.
 * moved: `from` is the history row's version, `to` the file's. squashed: `from` the rows folded
 * into the file `to`. renumber: `from` the file's version, `to` the version to give it.
 * ambiguous: no repair (`command` null).
 */
export interface HistoryFinding {
  kind: "moved" | "squashed" | "renumber" | "ambiguous";
  versions: string[];
  from: string[];
  to: string | null;
  files: string[];
  explain: string;
  /** Literally runnable after filling the reason; null when no repair is offered. */
  command: string | null;
  /** File renames the repair makes (renumber), to simulate the repaired repository. */
  file_ops?: Array<{ from: string; to: string }>;
  /** squashed: the files the repair records: the squash file, and the file recording what else the rows left live. */
  into?: string[];
  /**
   * squashed: the migration that records what the squashed rows (or the dashboard) left live and no file
   * builds, which `drift-guard fetch --live-definitions <to>` writes; present when the replay found it needed.
   */
  live_migration?: { file: string; version: string; sql: string; notes: string[] };
  /** The replay of the repaired project (db/history_replay.ts); absent when it was not run. */
  verification?: ReplayStatus;
}

/**
 * Whether a repository replays from zero (as db reset and preview branches build it) to what is live.
 * ok: every migration replayed and the applied ones build exactly the live catalog.
 */
export interface ReplayStatus {
  status: "ok" | "failed" | "differs" | "skipped";
  /** Migrations replayed. */
  migrations: number;
  /** One line: "ok (12 migrations, equals live)", the first failure with file:line, or the differences. */
  summary: string;
  /** failed: where. */
  file?: string;
  line?: number | null;
  /** differs: one line per difference, live first. */
  differences?: string[];
}

/** One DDL command the ledger saw that no migration recorded (see shared/ledger.ts). */
export interface UntrackedCommand {
  id: string;
  at: string;
  command_tag: string;
  session_user: string;
  current_user: string;
  application_name: string | null;
  client_addr: string | null;
  jwt_sub: string | null;
  jwt_role: string | null;
  /** Which identity fields the session set itself ("application_name", "jwt"): claims, never proof. */
  claimed: Array<"application_name" | "jwt">;
  /** Truncated as stored; statement_hash is over the whole statement. */
  statement: string | null;
  statement_hash: string | null;
  alerted: boolean;
}

/** Untracked DDL on one object: who, when and from where. Drift until acknowledged. */
export interface UntrackedChange {
  /** "table public.automation_rules", or "grant table (statement …)" when Postgres names no object. */
  object: string;
  object_type: string | null;
  object_identity: string | null;
  schema: string | null;
  first_at: string;
  last_at: string;
  /** "postgres via psql from 10.0.0.5", one per distinct actor. */
  who: string[];
  changes: UntrackedCommand[];
}

export interface Report {
  status: "in_sync" | "drift";
  summary: Summary;
  history_digest: string;
  migrations: MigrationEntry[];
  actions: Action[];
  problems: Problem[];
  /** DDL the ledger saw that no migration recorded, not yet acknowledged; [] without the ledger. */
  untracked_changes: UntrackedChange[];
  /** Whole-history findings (docs/whole-history.md): moved, squashed, renumber, ambiguous. */
  findings: HistoryFinding[];
  /** Whether the repository replays from zero to what is live; absent when not checked (no shadow, --no-evidence). */
  replay?: ReplayStatus;
}

export interface RepairChange {
  op: "insert" | "update" | "delete";
  version: string;
  name: string;
  /** The row after the change (insert/update); the audit keeps the row before. */
  statements?: string[];
  /** statementsChecksum of `statements` (insert/update), null for delete: what the reviewer sees of the content. */
  statements_checksum?: string | null;
}

export interface RepairPlan {
  dry_run: boolean;
  history_digest: string;
  /** Pins the reviewed content: the history digest plus every change (repair_plan.ts planDigest). */
  plan_digest: string;
  changes: RepairChange[];
  audit_id: string | null;
  reason: string;
  explain: string[];
  /** Untracked ledger entries this repair linked to the versions it marked applied. */
  ledger_linked?: number;
  /** Versions to mark applied whose objects exist live with other definitions (evidence `different`). */
  different?: Array<{ version: string; differences: string[] }>;
  /** The plan was made with --force-different ("force_different": true): `different` ones may be applied. */
  force_different?: boolean;
}

/** Exit codes every command shares (contract: "Exit codes"). */
export const EXIT = { ok: 0, drift: 1, usage: 2, unreachable: 3, conflict: 4 } as const;

/** What each exit code means, as every command's --help and docs/failures-and-load.md say it. */
export const EXIT_MEANINGS: Record<(typeof EXIT)[keyof typeof EXIT], string> = {
  [EXIT.ok]: "success",
  [EXIT.drift]: "drift found",
  [EXIT.usage]: "usage or bad input",
  [EXIT.unreachable]: "cannot reach or authenticate to the database or the function",
  [EXIT.conflict]: "conflict: the history changed since the plan, or another repair holds the lock",
};

/**
 * The outcomes that are not errors, with their exit code and HTTP status: a report
 * in sync or in drift, and a command ended by a signal. Only `drift` exits 1.
 */
export const OUTCOMES = {
  in_sync: { exit: EXIT.ok, http: 200 },
  /** Drift is a result, not a failure: the report comes with it (409, the conflict status, as the contract says). */
  drift: { exit: EXIT.drift, http: 409 },
  /** SIGINT, SIGTERM or SIGHUP ended the command; a write in flight may still have committed. */
  interrupted: { exit: EXIT.unreachable, http: 503 },
} as const satisfies Record<string, { exit: number; http: number }>;

export type Outcome = keyof typeof OUTCOMES;

/**
 * Every error code, with the exit code the CLI ends with and the HTTP status the
 * function answers with. The one table both adapters read; for a status without
 * a code in the body, the CLI takes the first code listed with that status.
 */
export const ERROR_CODES = {
  usage: { exit: EXIT.usage, http: 400 },
  bad_input: { exit: EXIT.usage, http: 400 },
  unknown_version: { exit: EXIT.usage, http: 400 },
  malformed_manifest: { exit: EXIT.usage, http: 400 },
  bad_directory: { exit: EXIT.usage, http: 400 },
  unauthorized: { exit: EXIT.unreachable, http: 401 },
  forbidden: { exit: EXIT.unreachable, http: 403 },
  not_found: { exit: EXIT.usage, http: 404 },
  no_manifest: { exit: EXIT.usage, http: 404 },
  digest_mismatch: { exit: EXIT.conflict, http: 409 },
  lock_held: { exit: EXIT.conflict, http: 409 },
  payload_too_large: { exit: EXIT.usage, http: 413 },
  /** The request body did not arrive within the function's deadline (DRIFT_GUARD_BODY_TIMEOUT_MS). */
  request_timeout: { exit: EXIT.unreachable, http: 408 },
  unreachable: { exit: EXIT.unreachable, http: 503 },
  /** A query ran past statement_timeout (or lock_timeout): the database is there but too slow for this request. */
  statement_timeout: { exit: EXIT.unreachable, http: 503 },
  /** The function is at its bound of concurrent requests; the answer carries Retry-After. */
  overloaded: { exit: EXIT.unreachable, http: 503 },
  not_installed: { exit: EXIT.usage, http: 503 },
  insufficient_privilege: { exit: EXIT.unreachable, http: 503 },
  internal: { exit: EXIT.unreachable, http: 500 },
  /** The Deno process `drift-guard serve` runs exited with an error of its own. */
  function_exited: { exit: EXIT.unreachable, http: 500 },
} as const satisfies Record<string, { exit: number; http: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** True for a code of ours, e.g. one read from a function's JSON error body. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/**
 * The code for an HTTP error status whose body named none of ours.
 * @example codeForHttpStatus(401) // "unauthorized"
 */
export function codeForHttpStatus(status: number): ErrorCode {
  const found = (Object.keys(ERROR_CODES) as ErrorCode[]).find((code) => ERROR_CODES[code].http === status);
  return found ?? "unreachable";
}

/** The one error type. Messages are written for the person who has to act on them. */
export class DriftGuardError extends Error {
  /** `options.cause` keeps the original (e.g. a PostgresError) for DRIFT_GUARD_DEBUG and logs; it is never shown. */
  constructor(readonly code: ErrorCode, message: string, readonly hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DriftGuardError";
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): { error: { code: ErrorCode; message: string; hint?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) } };
  }
}
