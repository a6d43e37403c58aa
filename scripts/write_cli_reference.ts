/** `npm run docs:cli`: writes docs/cli.md from the command definitions (cli/reference.ts). */
import { writeFile } from "node:fs/promises";
import { cliReference } from "../cli/reference.ts";

await writeFile(new URL("../docs/cli.md", import.meta.url), await cliReference());
