/** `fetch` names files after history rows: a name that would display as another name is never written. */
import { describe, expect, it } from "vitest";
import { fileNameFor } from "../shared/migration_files.ts";

describe("fileNameFor", () => {
  it.each([
    ["right-to-left override", "invoice\u202Etxt.sql"],
    ["left-to-right isolate", "a\u2066b"],
    ["right-to-left isolate", "a\u2067b"],
    ["first strong isolate", "a\u2068b"],
    ["pop directional isolate", "a\u2069b"],
    ["left-to-right mark", "a\u200Eb"],
    ["Arabic letter mark", "a\u061Cb"],
    ["zero-width space", "a\u200Bb"],
    ["byte order mark", "\uFEFFinit"],
    ["line separator", "a\u2028b"],
    ["C1 control", "a\u009Bb"],
    ["lone surrogate", "a\uD800b"],
    ["escape", "a\u001b[31mb"],
  ])("refuses a name with a %s", (_, name) => {
    expect(fileNameFor("20240101000000", name)).toBeNull();
  });
  it("keeps ordinary names, non-ASCII letters and emoji included", () => {
    expect(fileNameFor("20240101000000", "init")).toBe("20240101000000_init.sql");
    expect(fileNameFor("20240101000000", "café_données")).toBe("20240101000000_café_données.sql");
    expect(fileNameFor("20240101000000", "rocket_🚀")).toBe("20240101000000_rocket_🚀.sql");
  });
});
