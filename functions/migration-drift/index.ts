// The hosted entrypoint (supabase/config.toml): serve the app, nothing else.
import { appFromEnv } from "./environment.ts";

Deno.serve(appFromEnv());
