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

/** What the catalog says about a local-only migration's objects (see evidence.ts). */
export interface Evidence {
  verdict: "present" | "absent" | "partial" | "unknown";
  objects: Array<{ kind: string; name: string; present: boolean }>;
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
  /** Untracked ledger entries this repair linked to the versions it marked applied. */
  ledger_linked?: number;
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
