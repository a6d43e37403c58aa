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

export interface Report {
  status: "in_sync" | "drift";
  summary: Summary;
  history_digest: string;
  migrations: MigrationEntry[];
  actions: Action[];
  problems: Problem[];
}

export interface RepairChange {
  op: "insert" | "update" | "delete";
  version: string;
  name: string;
  /** The row after the change (insert/update); the audit keeps the row before. */
  statements?: string[];
}

export interface RepairPlan {
  dry_run: boolean;
  history_digest: string;
  changes: RepairChange[];
  audit_id: string | null;
  reason: string;
  explain: string[];
  /** Versions to mark applied whose objects exist live with other definitions (evidence `different`). */
  different?: Array<{ version: string; differences: string[] }>;
  /** The plan was made with --force-different ("force_different": true): `different` ones may be applied. */
  force_different?: boolean;
}

/** Exit codes every command shares (contract: "Exit codes"). */
export const EXIT = { ok: 0, drift: 1, usage: 2, unreachable: 3, conflict: 4 } as const;

export type ErrorCode =
  | "usage"
  | "bad_input"
  | "unknown_version"
  | "malformed_manifest"
  | "bad_directory"
  | "unreachable"
  | "unauthorized"
  | "forbidden"
  | "insufficient_privilege"
  | "not_installed"
  | "not_found"
  | "no_manifest"
  | "digest_mismatch"
  | "lock_held"
  | "payload_too_large"
  | "internal";

const EXIT_FOR: Record<ErrorCode, number> = {
  usage: EXIT.usage,
  bad_input: EXIT.usage,
  unknown_version: EXIT.usage,
  malformed_manifest: EXIT.usage,
  bad_directory: EXIT.usage,
  not_found: EXIT.usage,
  no_manifest: EXIT.usage,
  payload_too_large: EXIT.usage,
  not_installed: EXIT.usage,
  unreachable: EXIT.unreachable,
  unauthorized: EXIT.unreachable,
  forbidden: EXIT.unreachable,
  insufficient_privilege: EXIT.unreachable,
  digest_mismatch: EXIT.conflict,
  lock_held: EXIT.conflict,
  internal: EXIT.unreachable,
};

/** The one error type. Messages are written for the person who has to act on them. */
export class DriftGuardError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly hint?: string) {
    super(message);
    this.name = "DriftGuardError";
  }

  get exitCode(): number {
    return EXIT_FOR[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; hint?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) } };
  }
}
