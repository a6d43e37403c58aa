/**
 * The suggested migration: SQL that records the live database's changes, so that replaying the
 * migrations builds what is live. Written only where it can be derived from the catalog safely;
 * everything else is a note. One writer per object kind (./<kind>.ts).
 */
import type { Comparison } from "../compare.ts";
import { KIND_WORD } from "../describe.ts";
import type { Change, ObjectKind, SchemaDifference, SuggestedMigration } from "../types.ts";
import { writeSchema } from "./schema.ts";
import { writeExtension } from "./extension.ts";
import { writeEnum } from "./enum.ts";
import { writeDomain } from "./domain.ts";
import { writeCompositeType } from "./composite_type.ts";
import { writeRangeType } from "./range_type.ts";
import { writeSequence } from "./sequence.ts";
import { writeTable } from "./table.ts";
import { writeColumn } from "./column.ts";
import { writeConstraint } from "./constraint.ts";
import { writeIndex } from "./index.ts";
import { writeFunction } from "./function.ts";
import { writeView } from "./view.ts";
import { writeMaterializedView } from "./materialized_view.ts";
import { writeTrigger } from "./trigger.ts";
import { writeRls } from "./rls.ts";
import { writePolicy } from "./policy.ts";
import { writePublication } from "./publication.ts";
import { writeOwner } from "./owner.ts";
import { writeComment } from "./comment.ts";
import { writeGrant } from "./grant.ts";
import { CREATE_PHASE, type Writer } from "./writer.ts";

const WRITERS: Record<ObjectKind, Writer> = {
  schema: writeSchema,
  extension: writeExtension,
  enum: writeEnum,
  domain: writeDomain,
  composite_type: writeCompositeType,
  range_type: writeRangeType,
  sequence: writeSequence,
  table: writeTable,
  column: writeColumn,
  constraint: writeConstraint,
  index: writeIndex,
  function: writeFunction,
  view: writeView,
  materialized_view: writeMaterializedView,
  trigger: writeTrigger,
  rls: writeRls,
  policy: writePolicy,
  publication: writePublication,
  owner: writeOwner,
  comment: writeComment,
  grant: writeGrant,
};

interface Piece {
  phase: number;
  sql: string[];
}

export function suggestMigration(cmp: Comparison, now: Date, migrationsDir = "supabase/migrations"): SuggestedMigration {
  const pieces: Piece[] = [];
  const notes: string[] = [];
  const keyOf = (d: SchemaDifference) => `${d.kind}:${d.object}`;
  const byKey = new Map(cmp.all.map((d) => [keyOf(d), d]));
  const obj = (d: SchemaDifference) => (d.change === "missing" ? cmp.expected.get(keyOf(d)) : cmp.actual.get(keyOf(d)))!;
  const ancestorChanged = (d: SchemaDifference, change: Change): boolean => {
    let p = obj(d).parent;
    const seen = new Set<string>();
    while (p && !seen.has(p)) {
      seen.add(p);
      if (byKey.get(p)?.change === change) return true;
      p = (cmp.actual.get(p) ?? cmp.expected.get(p))?.parent;
    }
    return false;
  };
  let drops = 0;
  const drop = (kind: ObjectKind, sql: string) => {
    drops++;
    pieces.push({ phase: -CREATE_PHASE[kind], sql: [sql] });
  };
  const add = (phase: number, ...sql: string[]) => pieces.push({ phase, sql });
  const cannot = (d: SchemaDifference, why: string) => notes.push(`${KIND_WORD[d.kind]} ${d.object}: ${why}`);

  for (const d of cmp.all) {
    const o = obj(d);
    const p = o.props;
    const info = o.info ?? {};
    if (d.change === "missing" && ancestorChanged(d, "missing")) continue; // dropped with its parent
    const phase = CREATE_PHASE[d.kind];
    WRITERS[d.kind]({ d, o, p, info, phase, cmp, byKey, keyOf, add, drop, cannot, notes });
  }

  pieces.sort((x, y) => x.phase - y.phase);
  const body = pieces.flatMap((p) => p.sql);
  const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const file = body.length ? `${migrationsDir.replace(/\/+$/, "")}/${stamp}_schema_drift.sql` : null;
  if (body.length) {
    notes.unshift(
      `The live database already has these changes. Save the SQL as ${file}, then record it as applied instead of pushing it: ` +
        `drift-guard repair --mark-applied ${stamp} --reason "record schema drift" (or supabase migration repair --status applied ${stamp}).`,
    );
    if (drops) notes.push(`${drops} statement(s) drop objects the live database no longer has. If a local migration simply has not been pushed yet, delete those lines and push it instead.`);
    notes.push("Statements are ordered by object kind (schemas, types, tables, constraints, functions, views, triggers, RLS, policies, grants, owners, comments); reorder them if your objects depend on each other differently.");
  }
  const sql = body.length
    ? [`-- drift-guard schema-diff: what the live database has that the migrations do not build (${now.toISOString()}).`, `-- Review before committing.`, "", ...body, ""].join("\n")
    : "";
  return { sql, notes, file, statements: body.length };
}
