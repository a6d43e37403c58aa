/** shared/manifest.ts: a stored manifest is read back without rescanning its SQL, and only when this code verified it. */
import { describe, expect, it } from "vitest";
import { CHECKSUM_RULE, statementsChecksum } from "../shared/checksum.ts";
import { MANIFEST_FORMAT, type Manifest, parseManifest, parseStoredManifest, storedManifestBody } from "../shared/manifest.ts";

const statements = ["create table public.t (id int)", "select 1"];
const manifest = (checksum = statementsChecksum(statements)): Manifest => ({
  format: MANIFEST_FORMAT,
  generated_at: "2026-12-02T05:00:00.000Z",
  git: null,
  migrations: [{ version: "20260101000000", name: "t", path: "supabase/migrations/20260101000000_t.sql", checksum, statements }],
  problems: [],
});
/** What drift_guard.manifests.body gives back: JSON through jsonb. */
const stored = (body: unknown) => JSON.parse(JSON.stringify(body));
const wrong = `sha256:${"0".repeat(64)}`;

describe("stored manifests", () => {
  it("round-trip: what storedManifestBody stores, parseStoredManifest reads back as the same manifest", () => {
    const m = parseManifest(stored(manifest()));
    expect(parseStoredManifest(stored(storedManifestBody(m)))).toEqual(m);
  });

  it("one verified under the current checksum rule is checked for shape, not rescanned", () => {
    // Only drift-guard writes drift_guard.manifests, after verifying: a mismatch here could only be a hand edit of the table.
    const body = stored({ ...manifest(wrong), verified_checksum_rule: CHECKSUM_RULE });
    expect(parseStoredManifest(body).migrations[0].checksum).toBe(wrong);
    expect(() => parseStoredManifest({ ...body, migrations: [...body.migrations, body.migrations[0]] })).toThrowError(/duplicate version/);
    expect(() => parseStoredManifest({ ...body, format: "nope" })).toThrowError(/format/);
  });

  it("one stored under another rule, or unmarked, is verified like an upload", () => {
    for (const rule of ["drift-guard.checksum/1", undefined]) {
      expect(() => parseStoredManifest(stored({ ...manifest(wrong), verified_checksum_rule: rule }))).toThrowError(/checksum: does not match the statements/);
    }
  });

  it("an upload cannot claim to be verified: the mark is not part of the manifest", () => {
    const upload = stored({ ...manifest(wrong), verified_checksum_rule: CHECKSUM_RULE });
    expect(() => parseManifest(upload)).toThrowError(/checksum: does not match the statements/);
    expect(parseManifest(stored({ ...manifest(), verified_checksum_rule: CHECKSUM_RULE }))).not.toHaveProperty("verified_checksum_rule");
  });
});

describe("uploads", () => {
  it("name the path of a NUL character, in a value or a key, which Postgres cannot store", () => {
    const withNulValue = stored(manifest());
    withNulValue.migrations[0].statements[1] = "select '\u0000'";
    expect(() => parseManifest(withNulValue)).toThrowError(/migrations\[0\]\.statements\[1\]: contains a NUL character/);
    const withNulKey = { ...stored(manifest()), ["odd\u0000key"]: 1 };
    expect(() => parseManifest(withNulKey)).toThrowError(/odd\u0000key: contains a NUL character/);
  });
});
