/** docs/cli.md is every command's --help as the definitions print it (cli/reference.ts). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cliReference } from "../cli/reference.ts";
import { COMMANDS } from "../cli/main.ts";

const PAGE = readFileSync(new URL("../docs/cli.md", import.meta.url), "utf8");

describe("docs/cli.md", () => {
  it("is what `npm run docs:cli` writes from the command definitions", async () => {
    expect(PAGE, "docs/cli.md is out of date: run npm run docs:cli").toBe(await cliReference());
  });

  it("has a section for every command in cli/main.ts's table, and every flag of each", async () => {
    for (const [name, load] of Object.entries(COMMANDS)) {
      const section = PAGE.split(`## drift-guard ${name}\n`)[1]?.split(/\n## /)[0];
      expect(section, `no section for ${name}`).toBeDefined();
      for (const option of (await load()).definition.options?.() ?? []) expect(section, `${name} ${option.long}`).toContain(option.long!);
    }
  });
});
