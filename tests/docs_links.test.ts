/** Every link in README.md and docs/ resolves to a file inside this repository. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const pages = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

describe("documentation links", () => {
  for (const page of pages) {
    it(`${page}: every relative link resolves inside the repository`, () => {
      const text = readFileSync(join(ROOT, page), "utf8");
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((l) => !/^(https?:|mailto:|#)/.test(l));
      for (const link of links) {
        const target = resolve(dirname(join(ROOT, page)), link.split("#")[0]);
        expect(relative(ROOT, target).startsWith(".."), `${page} links outside the repository: ${link}`).toBe(false);
        expect(existsSync(target), `${page} links to a missing file: ${link}`).toBe(true);
      }
    });
  }
});
