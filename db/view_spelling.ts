/**
 * Views that differ only in how two Postgres versions deparse them are made to
 * read alike: the live text is re-deparsed on the shadow (canonicalViewDefinitions)
 * and, when it then matches the shadow's, the live object takes that spelling.
 * schema-diff and evidence by definition both compare views this way.
 */
import type { CatalogSnapshot } from "../shared/schema_diff.ts";
import { canonicalViewDefinitions, type Shadow } from "./shadow.ts";

/** Live views whose text differs from the shadow's: the ones whose spelling may need aligning. */
function spellingCandidates(expected: CatalogSnapshot, actual: CatalogSnapshot) {
  const shadowViews = new Map(expected.objects.filter((o) => o.kind === "view" || o.kind === "materialized_view").map((o) => [`${o.kind}:${o.name}`, o]));
  const candidates = actual.objects.filter((o) => {
    const e = shadowViews.get(`${o.kind}:${o.name}`);
    return e && e.props.definition !== o.props.definition;
  });
  return { shadowViews, candidates };
}

/**
 * The live definitions re-deparsed on the shadow, by live text: null where the shadow could
 * not create the view. What alignViewSpelling computed, kept to align again without the shadow.
 */
export type ViewSpellings = Map<string, string | null>;

/**
 * Rewrites, in `actual`, the definitions of views whose re-deparsed live text equals the shadow's.
 * Returns the re-deparsed texts, for applyViewSpellings.
 *
 * @example
 * await alignViewSpelling(shadow, expected, live.snapshot); // then compare as usual
 */
export async function alignViewSpelling(shadow: Shadow, expected: CatalogSnapshot, actual: CatalogSnapshot): Promise<ViewSpellings> {
  const { candidates } = spellingCandidates(expected, actual);
  const canonical = await canonicalViewDefinitions(shadow, candidates.map((o) => ({ name: `${o.kind}:${o.name}`, definition: String(o.props.definition) })));
  const spellings: ViewSpellings = new Map(candidates.map((o) => [String(o.props.definition), canonical.get(`${o.kind}:${o.name}`) ?? null]));
  applyViewSpellings(expected, actual, spellings);
  return spellings;
}

/**
 * alignViewSpelling without a shadow, from the texts it returned for the same shadow state.
 * False (and `actual` unchanged) when a live view's text is not among them.
 *
 * @example applyViewSpellings(cachedSnapshot, live.snapshot, cachedSpellings) // true
 */
export function applyViewSpellings(expected: CatalogSnapshot, actual: CatalogSnapshot, spellings: ReadonlyMap<string, string | null>): boolean {
  const { shadowViews, candidates } = spellingCandidates(expected, actual);
  if (!candidates.every((o) => spellings.has(String(o.props.definition)))) return false;
  for (const o of candidates) {
    const c = spellings.get(String(o.props.definition));
    if (c !== null && c !== undefined && c === shadowViews.get(`${o.kind}:${o.name}`)!.props.definition) {
      o.info = { ...o.info, live_definition: o.props.definition };
      o.props = { ...o.props, definition: c };
    }
  }
  return true;
}
