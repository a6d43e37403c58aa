/** Where the package keeps what it ships (templates, the schema, the built function). */
import { fileURLToPath } from "node:url";

/**
 * The package root: one level above this module, from cli/ in a checkout and
 * from dist/ (the bundle, with its chunks beside it) in an installed package alike.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
