/** The manifest of expected migrations: built at deploy time, uploaded, validated on arrival. */
import { z } from "zod";
import { CHECKSUM_RULE, sha256Hex, statementsChecksum, utf8Length } from "./checksum.ts";
import type { ParsedMigrations } from "./migration_files.ts";
import type { LocalMigration, Problem } from "./types.ts";
import { DriftGuardError } from "./types.ts";

export const MANIFEST_FORMAT = "drift-guard.manifest/1";

export interface GitProvenance {
  commit: string;
  branch: string | null;
}

const migrationSchema = z.object({
  version: z.string().regex(/^[0-9]+$/, "must be digits, as in <version>_<name>.sql"),
  name: z.string(),
  path: z.string(),
  checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex digits>"),
  statements: z.array(z.string()),
});

const problemSchema = z.object({
  level: z.enum(["warning", "error"]),
  file: z.string(),
  message: z.string(),
});

const manifestShape = z.object({
  format: z.literal(MANIFEST_FORMAT),
  generated_at: z.string().datetime({ offset: true }),
  git: z.object({ commit: z.string().regex(/^[0-9a-f]{7,64}$/), branch: z.string().nullable() }).nullable(),
  migrations: z.array(migrationSchema),
  problems: z.array(problemSchema).default([]),
});

/** Each version once; with `checksums`, each checksum recomputed from its statements (a scan of all the SQL). */
function refineMigrations(checksums: boolean) {
  return (m: z.output<typeof manifestShape>, ctx: z.RefinementCtx) => {
    const seen = new Map<string, number>();
    m.migrations.forEach((mig, i) => {
      const first = seen.get(mig.version);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path: ["migrations", i, "version"], message: `duplicate version ${mig.version} (also migrations[${first}])` });
      } else {
        seen.set(mig.version, i);
      }
      // The checksum is derived from the statements; a mismatch means a hand-edited or truncated manifest.
      if (checksums && statementsChecksum(mig.statements) !== mig.checksum) {
        ctx.addIssue({ code: "custom", path: ["migrations", i, "checksum"], message: "does not match the statements" });
      }
    });
  };
}

export const manifestSchema = manifestShape.superRefine(refineMigrations(true));
/** A manifest this code verified before storing it: its checksums are not recomputed. */
const verifiedManifestSchema = manifestShape.superRefine(refineMigrations(false));

export type Manifest = z.output<typeof manifestSchema>;

export function buildManifest(parsed: ParsedMigrations, git: GitProvenance | null, now: Date): Manifest {
  return {
    format: MANIFEST_FORMAT,
    generated_at: now.toISOString(),
    git,
    migrations: parsed.migrations.map(({ version, name, path, checksum, statements }) => ({ version, name, path, checksum, statements })),
    problems: parsed.problems,
  };
}

/** Whether any string (or key) holds U+0000. Iterative, and keeps no paths: a manifest may be deep or huge. */
function hasNul(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length) {
    const value = stack.pop();
    if (typeof value === "string") {
      if (value.includes("\u0000")) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object") {
      for (const key in value) {
        if (key.includes("\u0000")) return true;
        stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** The path of the first string (or key) holding U+0000, or null. Iterative: a manifest may be deep or huge. */
function pathWithNul(root: unknown, rootPath: PropertyKey[]): PropertyKey[] | null {
  const stack: Array<[unknown, PropertyKey[]]> = [[root, rootPath]];
  while (stack.length) {
    const [value, path] = stack.pop()!;
    if (typeof value === "string") {
      if (value.includes("\u0000")) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, i]]);
    } else if (value !== null && typeof value === "object") {
      for (const [key, v] of Object.entries(value)) {
        if (key.includes("\u0000")) return [...path, key];
        stack.push([v, [...path, key]]);
      }
    }
  }
  return null;
}

function describePath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "") || "(root)";
}

/** Validates untrusted input. Throws malformed_manifest with one line per defect. */
export function parseManifest(input: unknown): Manifest {
  // The walk that names the path allocates one per value: only for the manifest that has one.
  const nul = hasNul(input) ? pathWithNul(input, []) : null;
  if (nul) {
    throw new DriftGuardError("malformed_manifest", `malformed manifest:\n  ${describePath(nul)}: contains a NUL character (U+0000), which Postgres cannot store`,
      "build it with `drift-guard manifest build`; do not edit it by hand");
  }
  return validated(manifestSchema, input);
}

/**
 * The stored form of a verified manifest: the manifest, marked with the checksum rule it
 * was verified under (CHECKSUM_RULE). Only drift-guard writes drift_guard.manifests.
 */
export function storedManifestBody(manifest: Manifest): Manifest & { verified_checksum_rule: string } {
  return { ...manifest, verified_checksum_rule: CHECKSUM_RULE };
}

/**
 * Reads a manifest back from drift_guard.manifests. One marked as verified under the
 * current checksum rule is checked for shape only: recomputing 10,000 checksums costs a
 * cold /status a third of a second and tens of MB (npm run bench). Anything else (stored by
 * an older rule, or by hand) is validated like an upload. jsonb cannot hold U+0000.
 *
 * @example parseStoredManifest(JSON.parse(row.body))
 */
export function parseStoredManifest(input: unknown): Manifest {
  const verified = typeof input === "object" && input !== null && (input as { verified_checksum_rule?: unknown }).verified_checksum_rule === CHECKSUM_RULE;
  return verified ? validated(verifiedManifestSchema, input) : parseManifest(input);
}

function validated(schema: typeof manifestSchema, input: unknown): Manifest {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const defects = result.error.issues.slice(0, 50).map((issue) => `${describePath(issue.path)}: ${issue.message}`);
  const more = result.error.issues.length > 50 ? [`… and ${result.error.issues.length - 50} more`] : [];
  throw new DriftGuardError(
    "malformed_manifest",
    `malformed manifest:\n  ${[...defects, ...more].join("\n  ")}`,
    "build it with `drift-guard manifest build`; do not edit it by hand",
  );
}

export function manifestMigrations(manifest: Manifest): { local: LocalMigration[]; problems: Problem[] } {
  return { local: manifest.migrations.map((m) => ({ ...m })), problems: [...manifest.problems] };
}

/**
 * Digest of what a report is about: every migration's version, name, path and
 * checksum (which pins its statements), and every problem. The function echoes
 * it in the report (`manifest_digest`), so `check --url` can tell a report about
 * the manifest it sent from one about something else.
 *
 * @example manifestDigest(buildManifest(parsed, null, new Date())) // "sha256:…"
 */
export function manifestDigest(manifest: Pick<Manifest, "migrations" | "problems">): string {
  const field = (s: string) => `${utf8Length(s)}:${s}`;
  const lines = [
    MANIFEST_FORMAT,
    ...[...manifest.migrations].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0))
      .map((m) => `m|${field(m.version)}|${field(m.name)}|${field(m.path)}|${field(m.checksum)}`),
    ...manifest.problems.map((p) => `p|${field(p.level)}|${field(p.file)}|${field(p.message)}`),
  ];
  return `sha256:${sha256Hex(lines.join("\n"))}`;
}
