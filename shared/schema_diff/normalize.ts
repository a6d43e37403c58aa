/**
 * Normalization across server versions: the embedded shadow is a newer Postgres than most live
 * databases. Only facts that the older server cannot express are dropped.
 */
import type { CatalogObject, CatalogSnapshot } from "./types.ts";

/** MAINTAIN (Postgres 17+) is dropped from both sides unless both servers know it. */
export function normalizeSnapshot(snapshot: CatalogSnapshot, otherVersion: number): CatalogSnapshot {
  const oldest = Math.min(snapshot.server_version_num, otherVersion);
  if (oldest >= 170000) return snapshot;
  const objects: CatalogObject[] = [];
  for (const o of snapshot.objects) {
    if (o.kind !== "grant") {
      objects.push(o);
      continue;
    }
    const privileges = (o.props.privileges as string[]).filter((p) => p !== "MAINTAIN");
    if (privileges.length === 0) continue;
    objects.push({ ...o, props: { ...o.props, privileges, grantable: (o.props.grantable as string[]).filter((p) => p !== "MAINTAIN") } });
  }
  return { ...snapshot, objects };
}
