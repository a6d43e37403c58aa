/**
 * The shadow database, where the local migrations are replayed to learn the
 * schema they build. One module per concern under db/shadow/:
 *
 *   shadow.ts          the Shadow interface both kinds implement
 *   pglite.ts          embedded (default): PGlite in-process, stand-ins as extensions
 *   initdb_cache.ts    the embedded shadow's cached fresh data directory
 *   postgres.ts        --shadow-url: a real, empty Postgres
 *   empty_check.ts     what makes a --shadow-url "not empty"
 *   bootstrap.ts       what the shadow copies from the live platform before replay
 *   extensions.ts      real extensions or stand-ins, and the repairs that create them
 *   replay.ts          migrations replayed as `supabase db push` runs them
 *   view_canonical.ts  view text re-deparsed on the shadow's server
 *
 * This file re-exports them, so callers import one name.
 */
export type { Shadow } from "./shadow/shadow.ts";
export { EMBEDDED_EXTENSIONS, openEmbeddedShadow } from "./shadow/pglite.ts";
export { initdbCacheFile, pinnedPgliteVersion } from "./shadow/initdb_cache.ts";
export { openPostgresShadow, shadowUnreachable } from "./shadow/postgres.ts";
export { assertEmptyShadow, EMPTY_SHADOW_RULE } from "./shadow/empty_check.ts";
export {
  bootstrapShadow,
  type BootstrapOptions,
  createdByMigrations,
  defaultPrivilegeStatements,
  PLATFORM_PREINSTALLED,
  PLATFORM_SCHEMAS,
  type UnbuiltPlatformObject,
} from "./shadow/bootstrap.ts";
export { STAND_INS_PATH } from "./extension_stand_ins.ts";
export { createdExtension, ensureExtension, extensionStatementRule, missingExtensionRepair, standInCandidates, standInsInUse } from "./shadow/extensions.ts";
export { missingRoleRepair, ReplayError, replayMigrations, type ReplayOptions, type ReplayResult } from "./shadow/replay.ts";
export { canonicalViewDefinitions } from "./shadow/view_canonical.ts";
export { stripLeadingComments } from "../shared/extension_statements.ts";
