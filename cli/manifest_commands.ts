/** `drift-guard manifest build|upload`. */
import { writeFileSync } from "node:fs";
import process from "node:process";
import { buildManifest } from "../shared/manifest.ts";
import { visible } from "../shared/report_formats/text_escape.ts";
import { EXIT } from "../shared/types.ts";
import { callFunction, requireFunctionTarget } from "./function_client.ts";
import { gitProvenance } from "./git.ts";
import { readMigrationsDir } from "./local_migrations.ts";

async function manifestFrom(dir: string) {
  const parsed = await readMigrationsDir(dir);
  return { manifest: buildManifest(parsed, gitProvenance(dir), new Date()), hasErrors: parsed.problems.some((p) => p.level === "error") };
}

function reportProblems(manifest: ReturnType<typeof buildManifest>): void {
  for (const p of manifest.problems) process.stderr.write(visible(`${p.level}: ${p.file}: ${p.message}`) + "\n");
}

export async function manifestBuildCommand(opts: { migrations: string; out?: string }): Promise<number> {
  const { manifest, hasErrors } = await manifestFrom(opts.migrations);
  reportProblems(manifest);
  if (hasErrors) return EXIT.usage;
  const text = JSON.stringify(manifest, null, 2) + "\n";
  if (opts.out) {
    writeFileSync(opts.out, text);
    process.stderr.write(`wrote ${opts.out}: ${manifest.migrations.length} migration(s)\n`);
  } else {
    process.stdout.write(text);
  }
  return EXIT.ok;
}

export async function manifestUploadCommand(opts: { migrations: string; url?: string; token?: string }): Promise<number> {
  const target = requireFunctionTarget(opts.url, opts.token);
  const { manifest, hasErrors } = await manifestFrom(opts.migrations);
  reportProblems(manifest);
  if (hasErrors) return EXIT.usage;
  const [, body] = await callFunction(target, "PUT", "manifest", manifest);
  process.stdout.write(JSON.stringify(body, null, 2) + "\n");
  return EXIT.ok;
}
