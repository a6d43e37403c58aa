/** Escaping for XML (JUnit): untrusted names and messages become text, never markup. */

/**
 * Text content: markup characters escaped; characters XML 1.0 cannot carry at
 * all (ESC and the other C0 controls but tab and line breaks) are dropped.
 *
 * @example escapeXml("<b>\x1b") // "&lt;b&gt;"
 */
export function escapeXml(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/**
 * An attribute value: escaped, with line breaks as character references so that parsers keep them.
 *
 * @example xmlAttr("a\nb") // "a&#10;b"
 */
export const xmlAttr = (s: string) => escapeXml(s).replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;");
