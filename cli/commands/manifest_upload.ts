/** `drift-guard manifest upload`: PUT the manifest to the function. */
import { EXIT } from "../../shared/types.ts";
import type { CommandDefinition } from "../command.ts";
import type { CliDeps } from "../deps.ts";
import { callFunction, requireFunctionTarget } from "../function_client.ts";
import { manifestFrom } from "../manifest.ts";
import { functionUrlOption, migrationsOption, tokenOption } from "../options.ts";

export const definition: CommandDefinition = {
  name: "manifest upload",
  description: "PUT the manifest to the function (deploy scope)",
  options: () => [functionUrlOption(), tokenOption(), migrationsOption()],
  exitCodes: [0, 2, 3],
  examples: ['drift-guard manifest upload --url "$DRIFT_GUARD_URL" --token "$DRIFT_GUARD_DEPLOY_TOKEN"'],
};

/**
 * Uploads the manifest of `opts.migrations`; prints the function's answer.
 * @example await run(deps, { migrations: "supabase/migrations", url, token })
 */
export async function run(deps: CliDeps, opts: { migrations: string; url?: string; token?: string }): Promise<number> {
  const target = requireFunctionTarget(opts.url, opts.token);
  const { manifest, hasErrors } = await manifestFrom(deps, opts.migrations);
  if (hasErrors) return EXIT.usage;
  const [, body] = await callFunction(target, "PUT", "manifest", manifest);
  deps.stdout.write(JSON.stringify(body, null, 2) + "\n");
  return EXIT.ok;
}
