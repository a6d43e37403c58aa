/**
 * Views that differ only in how two Postgres versions deparse them are made to
 * read alike: the live text is re-deparsed on the shadow (canonicalViewDefinitions)
 * and, when it then matches the shadow's, the live object takes that spelling.
 * schema-diff and evidence by definition both compare views this way.
 */
import type { CatalogSnapshot } from "../shared/schema_diff.ts";
import { canonicalViewDefinitions, type Shadow } from "./shadow.ts";

/**
 * Rewrites, in `actual`, the definitions of views whose re-deparsed live text equals the shadow's.
 *
 * @example
 * await alignViewSpelling(shadow, expected, live.snapshot); // then compare as usual
 */
export async function alignViewSpelling(shadow: Shadow, expected: CatalogSnapshot, actual: CatalogSnapshot): Promise<void> {
  const shadowViews = new Map(expected.objects.filter((o) => o.kind === "view" || o.kind === "materialized_view").map((o) => [`${o.kind}:${o.name}`, o]));
  const candidates = actual.objects.filter((o) => {
    const e = shadowViews.get(`${o.kind}:${o.name}`);
    return e && e.props.definition !== o.props.definition;
  });
  const canonical = await canonicalViewDefinitions(shadow, candidates.map((o) => ({ name: `${o.kind}:${o.name}`, definition: String(o.props.definition) })));
  for (const o of candidates) {
    const c = canonical.get(`${o.kind}:${o.name}`);
    if (c !== undefined && c === shadowViews.get(`${o.kind}:${o.name}`)!.props.definition) {
      o.info = { ...o.info, live_definition: o.props.definition };
      o.props = { ...o.props, definition: c };
    }
  }
}
