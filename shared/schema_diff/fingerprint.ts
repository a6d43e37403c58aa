/** The schema fingerprint: what GET /schema returns, and its digest. */
import { sha256Hex } from "../checksum.ts";
import { canonical } from "./canonical_json.ts";
import type { CatalogSnapshot, SchemaFilter } from "./types.ts";

/**
 * `sha256:<hex>` over the compared content of a snapshot: each object's kind, name, parent and
 * props (not info, which is never compared), in kind:name order, as canonical JSON (sorted keys).
 * Any change schema-diff would report changes it; reading the same database twice gives the same
 * digest, whatever order the server returned the objects in. The server version is not part of it.
 */
export function schemaDigest(snapshot: Pick<CatalogSnapshot, "objects">): string {
  const objects = snapshot.objects
    .map((o) => canonical({ kind: o.kind, name: o.name, parent: o.parent ?? null, props: o.props }))
    .map((o) => JSON.stringify(o))
    .sort();
  return `sha256:${sha256Hex(`[${objects.join(",")}]`)}`;
}

/** The body of the function's GET /schema: the live side of schema-diff, so CI needs no database credentials. */
export interface SchemaFingerprint extends CatalogSnapshot {
  schema_digest: string;
  /** The filter the snapshot was read with. */
  schemas: SchemaFilter;
  /** The live platform facts the shadow copies before replay (db/shadow.ts PlatformSettings). */
  settings: Record<string, unknown>;
}

export function schemaFingerprint(snapshot: CatalogSnapshot, schemas: SchemaFilter, settings: object): SchemaFingerprint {
  return { schema_digest: schemaDigest(snapshot), server_version_num: snapshot.server_version_num, objects: snapshot.objects, schemas, settings: { ...settings } };
}

