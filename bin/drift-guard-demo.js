#!/usr/bin/env node
/**
 * `npm run demo`: the 2025-10-27 migration-drift incident, replayed and repaired.
 *
 * No server and no set-up: "production" is an embedded Postgres (PGlite, Postgres
 * compiled to WebAssembly) served over the Postgres wire protocol by
 * @electric-sql/pglite-socket on 127.0.0.1:<free port>. Every step then runs the
 * real `drift-guard` CLI (bin/drift-guard.js, the same binary users run) against
 * postgresql://postgres@127.0.0.1:<port>/postgres, exactly as against a hosted
 * database: same connection code, same SQL, same guarded repair functions.
 *
 * The incident, as the seed write-up describes it:
 * - 78 migrations (20250828095134 … 20251025212010) were pushed to production
 *   from a branch that never reached git. The history table records them
 *   (version, name, statements, as `supabase db push` stores them), and their
 *   SQL ran. The repository has no files for them: `remote_only`.
 * - 11 legacy files (004, 008–012, 017–021) had their SQL pasted into the SQL
 *   editor by hand. Their tables exist; the history does not record them:
 *   `out_of_order`, and what they build is `identical` to what is live.
 * - One more legacy file (014) ran by hand too, but its function was changed by
 *   hand later: `different`. Marking it applied as it is would record a body that
 *   is not the live one; the fix is two steps (record the live definition in a new
 *   migration, then mark both applied with --force-different).
 * - The write-up then ran `supabase migration repair --status reverted` on the
 *   78, believing it meant "already applied". It DELETES the history rows.
 *
 * The demo shows what drift-guard reports, what the write-up's command would
 * have done (as a dry run), the evidence-based repair (fetch the 78, record the
 * live definition of 014, mark the 11, 014 and that record applied), applies it
 * guarded by the history digest, verifies, and undoes.
 *
 * Flags: --full prints every line of every command's output (by default long
 * runs of alike lines are shortened, and the shortening is marked).
 *
 * The module also exports the incident's data, so that tests can check it
 * against the real Supabase CLI (tests/demo.test.ts).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CLI = join(ROOT, "bin", "drift-guard.js");

// ---------------------------------------------------------------------------
// The incident's migrations
// ---------------------------------------------------------------------------

/** A table the way this team wrote them: uuid key, created_at, RLS on. */
function table(name, columns, { rls = true } = {}) {
  return [
    `create table if not exists public.${name} (\n  id uuid primary key default gen_random_uuid(),\n${columns.map((c) => `  ${c},\n`).join("")}  created_at timestamptz not null default now()\n)`,
    ...(rls ? [`alter table public.${name} enable row level security`] : []),
  ];
}

function index(tableName, columns, { unique = false, where = "", name } = {}) {
  const indexName = name ?? `${tableName}_${columns.replace(/\s+desc\b/g, "").replace(/[^a-z0-9]+/g, "_")}_idx`;
  return `create ${unique ? "unique " : ""}index if not exists ${indexName} on public.${tableName} (${columns})${where ? ` where ${where}` : ""}`;
}

const column = (tableName, col, type) => `alter table public.${tableName} add column if not exists ${col} ${type}`;

/** "Owner can read/write" without Supabase's auth schema: the JWT's sub claim, as auth.uid() reads it. */
const JWT_SUB = `nullif(current_setting('request.jwt.claim.sub', true), '')::uuid`;
const ownerPolicy = (tableName, col = "owner_id") =>
  `create policy "${tableName} owner access" on public.${tableName} for all to public using (${col} = ${JWT_SUB}) with check (${col} = ${JWT_SUB})`;

const updatedAtTrigger = (tableName) => [
  column(tableName, "updated_at", "timestamptz not null default now()"),
  `create trigger ${tableName}_set_updated_at before update on public.${tableName} for each row execute function public.set_updated_at()`,
];

const venture = "venture_id uuid not null references public.ventures (id) on delete cascade";

/** [name, statements] in version order; versions come from REMOTE_VERSIONS. */
const REMOTE_SPECS = [
  ["create_ventures", table("ventures", ["name text not null", "stage int not null default 1 check (stage between 1 and 40)", "status text not null default 'active'", "owner_id uuid"])],
  ["create_venture_stages", table("venture_stages", [venture, "stage int not null", "entered_at timestamptz not null default now()", "exited_at timestamptz"])],
  ["add_ventures_indexes", [index("ventures", "status"), index("venture_stages", "venture_id, stage")]],
  ["create_companies", table("companies", ["name text not null unique", "domain text"])],
  ["add_company_id_to_ventures", [column("ventures", "company_id", "uuid references public.companies (id)"), index("ventures", "company_id")]],
  ["create_venture_documents", table("venture_documents", [venture, "title text not null", "storage_path text not null", "mime_type text"])],
  ["create_stage_gate_reviews", table("stage_gate_reviews", [venture, "stage int not null", "decision text not null check (decision in ('go', 'kill', 'hold'))", "notes text"])],
  ["add_ventures_rls_policies", [ownerPolicy("ventures")]],
  ["create_ai_agents", table("ai_agents", ["code text not null unique", "display_name text not null", "model text not null", "active boolean not null default true"])],
  ["create_agent_runs", table("agent_runs", ["agent_id uuid not null references public.ai_agents (id)", "venture_id uuid references public.ventures (id) on delete set null", "status text not null default 'queued'", "started_at timestamptz", "finished_at timestamptz", "tokens_used int not null default 0"])],
  ["add_agent_runs_indexes", [index("agent_runs", "agent_id, status"), index("agent_runs", "started_at desc")]],
  ["create_agent_run_events", table("agent_run_events", ["run_id uuid not null references public.agent_runs (id) on delete cascade", "level text not null default 'info'", "message text not null", "payload jsonb not null default '{}'::jsonb"])],
  ["create_chairman_decisions", table("chairman_decisions", [venture, "decision text not null", "rationale text", "decided_at timestamptz not null default now()"])],
  ["create_chairman_dashboard_view", [
    `create or replace view public.chairman_dashboard as\nselect v.id, v.name, v.stage, v.status, count(d.id) as decisions, max(d.decided_at) as last_decision_at\nfrom public.ventures v\nleft join public.chairman_decisions d on d.venture_id = v.id\ngroup by v.id`,
  ]],
  ["create_venture_metrics", table("venture_metrics", [venture, "metric text not null", "value numeric not null", "measured_at timestamptz not null default now()"])],
  ["add_venture_metrics_unique", [index("venture_metrics", "venture_id, metric, measured_at", { unique: true, name: "venture_metrics_point_key" })]],
  ["create_kpi_targets", table("kpi_targets", [venture, "metric text not null", "target numeric not null", "due_on date"])],
  ["create_set_updated_at_function", [
    `create or replace function public.set_updated_at()\nreturns trigger\nlanguage plpgsql\nas $$\nbegin\n  new.updated_at := now();\n  return new;\nend;\n$$`,
  ]],
  ["add_updated_at_to_ventures", updatedAtTrigger("ventures")],
  ["add_updated_at_to_companies", updatedAtTrigger("companies")],
  ["create_portfolio_snapshots", table("portfolio_snapshots", ["taken_on date not null unique", "venture_count int not null", "by_stage jsonb not null"])],
  ["create_take_portfolio_snapshot_function", [
    `create or replace function public.take_portfolio_snapshot()\nreturns void\nlanguage sql\nas $$\n  insert into public.portfolio_snapshots (taken_on, venture_count, by_stage)\n  select current_date, count(*), coalesce(jsonb_object_agg(stage, n), '{}'::jsonb)\n  from (select stage, count(*) as n from public.ventures group by stage) s\n  on conflict (taken_on) do nothing;\n$$`,
  ]],
  ["create_notifications", table("notifications", ["user_id uuid not null", "kind text not null", "title text not null", "body text", "read_at timestamptz"])],
  ["add_notifications_indexes", [index("notifications", "user_id, read_at"), index("notifications", "created_at desc")]],
  ["create_comments", table("comments", [venture, "author_id uuid not null", "body text not null check (length(body) <= 10000)"])],
  ["add_comments_rls_policies", [ownerPolicy("comments", "author_id")]],
  ["create_tags", table("tags", ["label text not null unique", "color text not null default 'gray'"])],
  ["create_venture_tags", [
    `create table if not exists public.venture_tags (\n  venture_id uuid not null references public.ventures (id) on delete cascade,\n  tag_id uuid not null references public.tags (id) on delete cascade,\n  primary key (venture_id, tag_id)\n)`,
    `alter table public.venture_tags enable row level security`,
  ]],
  ["create_research_reports", table("research_reports", [venture, "topic text not null", "summary text", "sources jsonb not null default '[]'::jsonb"])],
  ["add_research_reports_status", [column("research_reports", "status", "text not null default 'draft'"), index("research_reports", "status")]],
  ["create_competitor_analyses", table("competitor_analyses", [venture, "competitor text not null", "strengths text", "weaknesses text"])],
  ["create_market_sizing", table("market_sizing", [venture, "tam numeric", "sam numeric", "som numeric", "method text"])],
  ["create_financial_models", table("financial_models", [venture, "version int not null default 1", "assumptions jsonb not null default '{}'::jsonb"])],
  ["add_financial_models_scenarios", [column("financial_models", "scenarios", "jsonb not null default '[]'::jsonb")]],
  ["create_investor_updates", table("investor_updates", [venture, "period text not null", "body_markdown text not null", "sent_at timestamptz"])],
  ["create_risk_register", table("risk_register", [venture, "risk text not null", "likelihood smallint check (likelihood between 1 and 5)", "impact smallint check (impact between 1 and 5)", "mitigation text"])],
  ["add_risk_register_indexes", [index("risk_register", "venture_id"), index("risk_register", "likelihood, impact")]],
  ["create_exit_strategies", table("exit_strategies", [venture, "kind text not null", "target_year int", "notes text"])],
  ["create_team_members", table("team_members", ["full_name text not null", "email text not null unique", "role text not null"])],
  ["create_venture_team_assignments", table("venture_team_assignments", [venture, "member_id uuid not null references public.team_members (id)", "allocation numeric not null default 1.0"])],
  ["add_team_assignments_unique", [index("venture_team_assignments", "venture_id, member_id", { unique: true, name: "venture_team_assignments_member_key" })]],
  ["create_okr_objectives", table("okr_objectives", [venture, "title text not null", "quarter text not null"])],
  ["create_okr_key_results", table("okr_key_results", ["objective_id uuid not null references public.okr_objectives (id) on delete cascade", "title text not null", "target numeric not null", "current numeric not null default 0"])],
  ["create_okr_progress_view", [
    `create or replace view public.okr_progress as\nselect o.id as objective_id, o.venture_id, o.quarter,\n       round(avg(least(kr.current / nullif(kr.target, 0), 1)) * 100, 1) as percent_done\nfrom public.okr_objectives o\njoin public.okr_key_results kr on kr.objective_id = o.id\ngroup by o.id`,
  ]],
  ["create_integrations", table("integrations", ["provider text not null", "config jsonb not null default '{}'::jsonb", "enabled boolean not null default false"])],
  ["create_webhook_deliveries", table("webhook_deliveries", ["integration_id uuid not null references public.integrations (id) on delete cascade", "event text not null", "payload jsonb not null", "status_code int"])],
  ["add_webhook_delivery_retries", [column("webhook_deliveries", "attempts", "int not null default 0"), column("webhook_deliveries", "next_attempt_at", "timestamptz"), index("webhook_deliveries", "next_attempt_at", { where: "status_code is null" })]],
  ["create_api_usage", table("api_usage", ["route text not null", "caller text", "status int not null", "duration_ms int not null"], { rls: false })],
  ["create_llm_cost_tracking", table("llm_costs", ["agent_run_id uuid references public.agent_runs (id) on delete set null", "model text not null", "input_tokens int not null", "output_tokens int not null", "usd numeric(12, 6) not null"])],
  ["create_llm_cost_daily_view", [
    `create or replace view public.llm_cost_daily as\nselect date_trunc('day', created_at)::date as day, model, sum(usd) as usd, sum(input_tokens + output_tokens) as tokens\nfrom public.llm_costs\ngroup by 1, 2`,
  ]],
  ["create_prompt_templates", table("prompt_templates", ["key text not null unique", "body text not null"])],
  ["add_prompt_template_versions", [column("prompt_templates", "version", "int not null default 1"), column("prompt_templates", "previous_body", "text")]],
  ["create_eva_conversations", table("eva_conversations", ["user_id uuid not null", "venture_id uuid references public.ventures (id) on delete set null", "title text"])],
  ["create_eva_messages", table("eva_messages", ["conversation_id uuid not null references public.eva_conversations (id) on delete cascade", "role text not null check (role in ('user', 'assistant', 'tool'))", "content text not null"])],
  ["add_eva_messages_indexes", [index("eva_messages", "conversation_id, created_at")]],
  ["create_voice_sessions", table("voice_sessions", ["user_id uuid not null", "transcript text", "duration_seconds int"])],
  ["create_strategic_directives", table("strategic_directives", ["code text not null unique", "title text not null", "status text not null default 'draft'", "priority text not null default 'medium'"])],
  ["create_product_requirements", table("product_requirements", ["code text not null unique", "title text not null", "body_markdown text not null"])],
  ["link_prds_to_directives", [column("product_requirements", "directive_id", "uuid references public.strategic_directives (id)"), index("product_requirements", "directive_id")]],
  ["create_retrospectives", table("retrospectives", ["directive_id uuid references public.strategic_directives (id)", "went_well text", "to_improve text"])],
  ["create_handoff_records", table("handoff_records", ["directive_id uuid not null references public.strategic_directives (id)", "from_phase text not null", "to_phase text not null", "accepted boolean"])],
  ["create_sub_agent_results", table("sub_agent_results", ["directive_id uuid references public.strategic_directives (id)", "agent_code text not null", "findings jsonb not null default '[]'::jsonb"])],
  ["add_sub_agent_results_verdict", [column("sub_agent_results", "verdict", "text check (verdict in ('pass', 'fail', 'warn'))")]],
  ["create_quality_gates", table("quality_gates", ["directive_id uuid not null references public.strategic_directives (id)", "gate text not null", "score numeric not null", "passed boolean not null"])],
  ["create_test_runs", table("test_runs", ["directive_id uuid references public.strategic_directives (id)", "suite text not null", "passed int not null", "failed int not null"])],
  ["add_automation_rule_priority", [column("automation_rules", "priority", "int not null default 100"), index("automation_rules", "priority")]],
  ["create_automation_rule_runs", table("automation_rule_runs", ["rule_id uuid not null references public.automation_rules (id) on delete cascade", "venture_id uuid references public.ventures (id) on delete set null", "succeeded boolean not null"])],
  ["create_automation_feedback_summary_view", [
    `create or replace view public.automation_feedback_summary as\nselect r.id as rule_id, r.name, count(f.id) as ratings, round(avg(f.rating), 2) as average_rating\nfrom public.automation_rules r\nleft join public.automation_feedback f on f.rule_id = r.id\ngroup by r.id`,
  ]],
  ["create_calibration_scores", table("calibration_scores", [venture, "dimension text not null", "score numeric not null check (score between 0 and 10)"])],
  ["create_venture_score_function", [
    `create or replace function public.venture_score(p_venture uuid)\nreturns numeric\nlanguage sql\nstable\nas $$\n  select coalesce(round(avg(score), 2), 0) from public.calibration_scores where venture_id = p_venture;\n$$`,
  ]],
  ["create_governance_policies", table("governance_policies", ["code text not null unique", "description text not null", "severity text not null default 'medium'"])],
  ["create_governance_violations", table("governance_violations", ["policy_id uuid not null references public.governance_policies (id)", "subject text not null", "resolved_at timestamptz"])],
  ["add_governance_indexes", [index("governance_violations", "policy_id", { where: "resolved_at is null", name: "governance_violations_open_idx" })]],
  ["create_session_heartbeats", table("session_heartbeats", ["session_id text not null", "agent_code text not null", "seen_at timestamptz not null default now()"], { rls: false })],
  ["create_work_queue", table("work_queue", ["kind text not null", "payload jsonb not null default '{}'::jsonb", "claimed_by text", "claimed_at timestamptz", "done_at timestamptz"])],
  ["create_claim_next_work_item_function", [
    `create or replace function public.claim_next_work_item(p_worker text)\nreturns public.work_queue\nlanguage plpgsql\nas $$\ndeclare\n  v_item public.work_queue;\nbegin\n  select * into v_item from public.work_queue\n  where claimed_at is null and done_at is null\n  order by created_at\n  limit 1\n  for update skip locked;\n  if found then\n    update public.work_queue set claimed_by = p_worker, claimed_at = now() where id = v_item.id returning * into v_item;\n  end if;\n  return v_item;\nend;\n$$`,
  ]],
  ["create_schema_health_view", [
    `create or replace view public.schema_health as\nselect c.relname as table_name, c.relrowsecurity as rls_enabled, c.reltuples::bigint as approx_rows\nfrom pg_catalog.pg_class c\njoin pg_catalog.pg_namespace n on n.oid = c.relnamespace\nwhere n.nspname = 'public' and c.relkind = 'r'`,
  ]],
  ["add_ventures_archived_at", [column("ventures", "archived_at", "timestamptz"), index("ventures", "status", { where: "archived_at is null", name: "ventures_live_status_idx" })]],
];

/** The 78 versions: the seed names the first three and the last; the rest fall in between, in order. */
export const REMOTE_VERSIONS = (() => {
  const fixedStart = ["20250828095134", "20250828095254", "20250828095417"];
  const last = "20251025212010";
  const between = REMOTE_SPECS.length - fixedStart.length - 1;
  // A deterministic spread over 2025-08-29 … 2025-10-25, so every run shows the same versions.
  let seed = 20251027;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const start = Date.UTC(2025, 7, 29, 8, 0, 0);
  const end = Date.UTC(2025, 9, 25, 18, 0, 0);
  const times = new Set();
  while (times.size < between) times.add(start + Math.floor(random() * ((end - start) / 1000)) * 1000);
  const stamps = [...times].sort((a, b) => a - b).map((t) => new Date(t).toISOString().replace(/[-:T]/g, "").slice(0, 14));
  return [...fixedStart, ...stamps, last];
})();

const title = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

/**
 * The 78 remote-only migrations: version, name and statements exactly as
 * `supabase db push` records them (the file's statements, split on top-level
 * semicolons, trimmed, without the semicolon). The header comment belongs to
 * the first statement, as the CLI keeps it.
 */
export const REMOTE_MIGRATIONS = REMOTE_SPECS.map(([name, statements], i) => ({
  version: REMOTE_VERSIONS[i],
  name,
  statements: [`-- ${title(name)}\n${statements[0]}`, ...statements.slice(1)],
}));

/** The 11 legacy files whose SQL was run by hand in the SQL editor and never recorded. */
export const LEGACY_MIGRATIONS = [
  ["004", "automation_rules", [
    ...table("automation_rules", ["name text not null", "trigger_event text not null", "conditions jsonb not null default '{}'::jsonb", "actions jsonb not null default '[]'::jsonb", "enabled boolean not null default true"]),
    index("automation_rules", "trigger_event", { where: "enabled", name: "automation_rules_enabled_event_idx" }),
  ]],
  ["008", "automation_feedback", table("automation_feedback", ["rule_id uuid not null references public.automation_rules (id) on delete cascade", "rating smallint not null check (rating between 1 and 5)", "comment text", "user_id uuid"])],
  ["009", "automation_history", table("automation_history", ["rule_id uuid not null references public.automation_rules (id) on delete cascade", "fired_at timestamptz not null default now()", "outcome text not null", "details jsonb not null default '{}'::jsonb"])],
  ["010", "automation_indexes", [index("automation_feedback", "rule_id"), index("automation_history", "rule_id, fired_at desc")]],
  ["011", "automation_functions", [
    `create or replace function public.record_automation_outcome(p_rule uuid, p_outcome text, p_details jsonb default '{}'::jsonb)\nreturns uuid\nlanguage plpgsql\nas $$\ndeclare\n  v_id uuid;\nbegin\n  insert into public.automation_history (rule_id, outcome, details)\n  values (p_rule, p_outcome, coalesce(p_details, '{}'::jsonb))\n  returning id into v_id;\n  return v_id;\nend;\n$$`,
  ]],
  ["012", "automation_rls", [
    `create policy "automation_rules readable" on public.automation_rules for select to public using (true)`,
    `create policy "automation_feedback own rows" on public.automation_feedback for all to public using (user_id = ${JWT_SUB}) with check (user_id = ${JWT_SUB})`,
    `create policy "automation_history readable" on public.automation_history for select to public using (true)`,
  ]],
  ["017", "notification_settings", table("notification_settings", ["user_id uuid not null unique", "email_enabled boolean not null default true", "digest text not null default 'daily'"])],
  ["018", "change_log_trigger", [
    ...table("change_log", ["table_name text not null", "row_id uuid", "operation text not null", "changed_by text default current_user"], { rls: false }),
    `create or replace function public.log_change()\nreturns trigger\nlanguage plpgsql\nas $$\nbegin\n  insert into public.change_log (table_name, row_id, operation)\n  values (tg_table_name, coalesce(new.id, old.id), tg_op);\n  return coalesce(new, old);\nend;\n$$`,
    `create trigger automation_rules_log_change after insert or update or delete on public.automation_rules for each row execute function public.log_change()`,
  ]],
  ["019", "user_preferences", table("user_preferences", ["user_id uuid not null unique", "theme text not null default 'system'", "locale text not null default 'en'"])],
  ["020", "feature_flags", table("feature_flags", ["key text not null unique", "enabled boolean not null default false", "rollout_percent int not null default 0 check (rollout_percent between 0 and 100)"])],
  ["021", "automation_dashboard_view", [
    `create or replace view public.automation_rule_stats as\nselect r.id, r.name, r.enabled, count(h.id) as fired, max(h.fired_at) as last_fired_at\nfrom public.automation_rules r\nleft join public.automation_history h on h.rule_id = r.id\ngroup by r.id`,
  ]],
].map(([version, name, statements]) => ({ version, name, fileName: `${version}_${name}.sql`, statements: [`-- ${title(name)}\n${statements[0]}`, ...statements.slice(1)] }));

/**
 * A twelfth legacy file, run by hand like the others, whose function was later
 * changed by hand in the SQL editor (the limit raised in production, never
 * written down). Its object exists, but not as the file builds it: `different`.
 */
export const HAND_CHANGED_MIGRATION = {
  version: "014",
  name: "automation_daily_limit",
  fileName: "014_automation_daily_limit.sql",
  statements: [`-- Automation daily limit\ncreate or replace function public.automation_daily_limit()\nreturns int\nlanguage sql\nstable\nas $$\n  select 100;\n$$`],
};

/** What was run by hand, later, in the SQL editor. */
export const HAND_CHANGES = [
  `create or replace function public.automation_daily_limit()\nreturns int\nlanguage sql\nstable\nas $$\n  select 250;\n$$`,
];

/** A migration file whose statements, split as the Supabase CLI splits them, are exactly `statements`. */
export function migrationFileText(statements) {
  return statements.map((s) => `${s};\n`).join("\n");
}

/** Creates the history table exactly as the Supabase CLI does. */
const HISTORY_TABLE = [
  "create schema if not exists supabase_migrations",
  "create table if not exists supabase_migrations.schema_migrations (version text not null primary key)",
  "alter table supabase_migrations.schema_migrations add column if not exists statements text[]",
  "alter table supabase_migrations.schema_migrations add column if not exists name text",
];

/**
 * Builds "production" on a PGlite instance: the 78 migrations run and recorded
 * the way `db push` does, each in its own transaction (the legacy SQL comes
 * after the legacy SQL, which runLegacyByHand runs by hand).
 */
export async function seedProduction(db) {
  await db.exec("set application_name = '@effect/sql-pg'"); // as the Supabase CLI's db push connects
  for (const s of HISTORY_TABLE) await db.exec(s);
  for (const m of REMOTE_MIGRATIONS) {
    await db.transaction(async (tx) => {
      for (const s of m.statements) await tx.exec(s);
      await tx.query("insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)", [m.version, m.name, m.statements]);
    });
  }
  await db.exec("reset application_name");
}

/**
 * The legacy SQL pasted by hand, as the incident had it: one file at a time, in a
 * session of its own (application_name "psql"), no history row. With drift-guard
 * installed, its DDL ledger records each command: who, when, from where.
 */
export async function runLegacyByHand(db) {
  await db.exec("set application_name = 'psql'");
  try {
    // psql sends each statement of a pasted file on its own.
    for (const m of [...LEGACY_MIGRATIONS, HAND_CHANGED_MIGRATION]) for (const statement of m.statements) await db.exec(statement);
    // Later, someone changed one of those definitions by hand, again outside any migration.
    for (const s of HAND_CHANGES) await db.exec(s);
  } finally {
    await db.exec("reset application_name");
  }
}

// ---------------------------------------------------------------------------
// Presentation
// ---------------------------------------------------------------------------

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const sgr = (open, close) => (s) => (useColor ? `\x1b[${open}m${s}\x1b[${close}m` : s);
const bold = sgr(1, 22);
const dim = sgr(2, 22);
const cyan = sgr(36, 39);

function shellArg(s) {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Shortens runs of more than `max` 14-digit versions inside one line (marked). */
function shortenVersionRuns(line, max = 6) {
  return line.replace(/\b\d{14}(?: \d{14}){6,}\b/g, (run) => {
    const v = run.split(" ");
    if (v.length <= max) return run;
    return `${v.slice(0, 3).join(" ")} …[${v.length - 4} more]… ${v.at(-1)}`;
  });
}

/** Shortens runs of more than 8 consecutive lines matching `re` to their first 3 and last 2 (marked). */
function collapseRuns(lines, re) {
  const out = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j < lines.length && re.test(lines[j])) j++;
    if (j - i > 8) {
      const indent = /^\s*/.exec(lines[i])[0];
      out.push(...lines.slice(i, i + 3), dim(`${indent}⋮ ${j - i - 5} more like these (npm run demo -- --full shows every line)`), ...lines.slice(j - 2, j));
      i = j;
    } else if (j > i) {
      out.push(...lines.slice(i, j));
      i = j;
    } else {
      out.push(lines[i++]);
    }
  }
  return out;
}

/** File names in columns, as `ls` lays them out on an 88-column terminal. */
function lsColumns(names, width = 88) {
  const colWidth = Math.max(...names.map((n) => n.length)) + 2;
  const cols = Math.max(1, Math.floor((width + 2) / colWidth));
  const rows = Math.ceil(names.length / cols);
  const lines = [];
  for (let r = 0; r < rows; r++) {
    const cells = [];
    for (let c = 0; c < cols && c * rows + r < names.length; c++) cells.push(names[c * rows + r].padEnd(colWidth));
    lines.push(cells.join("").trimEnd());
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// The demo
// ---------------------------------------------------------------------------

export async function runDemo({ full = false, write = (s) => process.stdout.write(s) } = {}) {
  const started = Date.now();
  const say = (s = "") => write(`${s}\n`);
  const wrap = (text) => {
    // Narration, wrapped at 88 columns and indented by two.
    const words = text.split(/\s+/);
    const lines = [];
    let line = "";
    for (const w of words) {
      if (line && line.length + 1 + w.length > 86) {
        lines.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    if (line) lines.push(line);
    for (const l of lines) say(`  ${l}`);
  };
  const note = (text) => {
    say();
    wrap(text);
  };
  let stepNo = 0;
  const step = (heading) => {
    stepNo++;
    say();
    say(bold(cyan(`── ${stepNo}. ${heading} ${"─".repeat(Math.max(3, 76 - heading.length))}`)));
  };

  const failures = [];
  const work = mkdtempSync(join(tmpdir(), "drift-guard-demo-"));
  const migrationsDir = join(work, "supabase", "migrations");
  mkdirSync(migrationsDir, { recursive: true });

  let db;
  let server;
  const cleanup = async () => {
    if (server) await server.stop().catch(() => {});
    if (db) await db.close().catch(() => {});
    server = undefined;
    db = undefined;
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => {
    cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    say(bold("drift-guard demo: the 2025-10-27 migration-drift incident, replayed and repaired"));
    // "Production": embedded Postgres, reached over TCP like any other database.
    const { PGlite } = await import("@electric-sql/pglite");
    const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
    const t0 = Date.now();
    db = await PGlite.create();
    const version = (await db.query("select version()")).rows[0].version;
    const engine = /^PostgreSQL [0-9.]+ \(PGlite [^)]*\)/.exec(version)?.[0] ?? "PGlite";
    server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0 });
    await server.start();
    const port = Number(server.getServerConn().split(":").at(-1));
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    say(dim(`"production" is ${engine}, Postgres compiled to WebAssembly, served on ${url}, started in ${((Date.now() - t0) / 1000).toFixed(1)} s.`));
    say(dim(`Every $ line below runs the real CLI (bin/drift-guard.js) in ${work}; nothing is left behind.`));

    const env = { ...process.env, SUPABASE_DB_URL: url };
    delete env.DRIFT_GUARD_URL;
    delete env.DRIFT_GUARD_TOKEN;

    const waitIdle = async () => {
      for (let i = 0; i < 200 && server.getStats().activeConnections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    };

    /** Runs the CLI to completion (one connection at a time), shows `$ command`, its output and exit code. */
    const cli = (args, { expect = 0, shown, collapse } = {}) =>
      new Promise((done, fail) => {
        const display = shown ?? `drift-guard ${args.map(shellArg).join(" ")}`;
        say();
        say(bold(`$ ${full ? display : shortenVersionRuns(display)}`));
        const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", fail);
        child.on("close", (code) => {
          let lines = (stdout + stderr).replace(/\n$/, "").split("\n");
          if (!full) {
            if (collapse) lines = collapseRuns(lines, collapse);
            lines = lines.map((l) => shortenVersionRuns(l));
          }
          if (stdout + stderr) say(lines.join("\n"));
          const meaning = { 0: "ok", 1: "drift", 2: "usage or bad input", 3: "cannot reach the database", 4: "conflict" }[code] ?? "?";
          say(dim(`[exit ${code}: ${meaning}]`));
          if (code !== expect) failures.push(`${display}: exit ${code}, expected ${expect}`);
          // pglite-socket serves one connection at a time: let the server see this one close.
          waitIdle().then(() => done({ code, stdout, stderr }), fail);
        });
      });

    step("The scene");
    wrap(`Production's history table records ${REMOTE_MIGRATIONS.length} migrations (${REMOTE_VERSIONS[0]} … ${REMOTE_VERSIONS.at(-1)}) pushed from a branch that never reached git: their SQL ran, the repository has no files for them.`);
    wrap(`The repository has ${LEGACY_MIGRATIONS.length + 1} legacy files whose SQL was pasted into the SQL editor by hand: their tables (automation_rules, automation_feedback, automation_history, …) exist, but the history does not record them. One of them, ${HAND_CHANGED_MIGRATION.fileName}, was changed by hand again later in production.`);
    for (const m of [...LEGACY_MIGRATIONS, HAND_CHANGED_MIGRATION]) writeFileSync(join(migrationsDir, m.fileName), migrationFileText(m.statements));
    say();
    say(bold("$ ls supabase/migrations"));
    say(lsColumns(readdirSync(migrationsDir).sort()));
    say();
    say(bold(`$ export SUPABASE_DB_URL=${url}`));

    step("Install drift-guard's schema (audit log, guarded repair functions, DDL ledger)");
    await cli(["install"]);

    step("Replay the incident, with drift-guard's DDL ledger watching");
    wrap(`Someone pastes the ${LEGACY_MIGRATIONS.length} legacy files into psql by hand: their SQL runs, no history row is written. Then the ${REMOTE_MIGRATIONS.length} migrations of the branch that never reached git are pushed the way \`supabase db push\` runs them: each file and its history row in one transaction. The ledger's event trigger records every command as it runs.`);
    const t1 = Date.now();
    await runLegacyByHand(db);
    await seedProduction(db);
    say(dim(`(${LEGACY_MIGRATIONS.reduce((n, m) => n + m.statements.length, 0)} statements by hand in a psql session, ${REMOTE_MIGRATIONS.length} migrations pushed, in ${((Date.now() - t1) / 1000).toFixed(1)} s)`));

    step("Check: what drifted, and what the catalog says about it");
    const first = await cli(["check"], { expect: 1, collapse: /^\d{14}\s+remote_only\s/ });
    const summary = (s) => /remote_only (\d+)/.exec(s)?.[1] + " remote_only, " + /out_of_order (\d+)/.exec(s)?.[1] + " out_of_order";
    const legacyCount = LEGACY_MIGRATIONS.length + 1;
    if (!/remote_only 78\b/.test(first.stdout) || !new RegExp(`out_of_order ${legacyCount}\\b`).test(first.stdout)) failures.push(`first check: expected 78 remote_only and ${legacyCount} out_of_order, got ${summary(first.stdout)}`);
    if ((first.stdout.match(/^0\d\d\s+out_of_order\s+\w+\s+identical\b/gm) ?? []).length !== LEGACY_MIGRATIONS.length) failures.push(`first check: expected ${LEGACY_MIGRATIONS.length} identical legacy files`);
    if (!/^014\s+out_of_order\s+\w+\s+different\b/m.test(first.stdout)) failures.push("first check: expected 014 to be different");
    note(`Two kinds of drift. The ${REMOTE_MIGRATIONS.length} remote_only rows ran on the database and need files. For the ${legacyCount} out_of_order files, drift-guard replayed each in an embedded shadow database and compared what it builds with the live catalog, definition by definition: ${LEGACY_MIGRATIONS.length} are "identical" (their SQL ran; only the history row is missing). ${HAND_CHANGED_MIGRATION.fileName} is "different": its function exists, but with another body, because someone changed it by hand later. Marking it applied as it is would record a definition production does not have.`);

    step("The ledger: who ran the legacy files by hand, and when");
    wrap(`Months later nobody could say who ran them, when, or from where. The ledger can: each command, its session user, application and client address, and that no migration recorded it (untracked).`);
    const ledger = await cli(["ledger", "--status", "untracked", "--object", "automation_rules"]);
    if (!/untracked\s+CREATE TABLE\s+public\.automation_rules\s+postgres via psql/.test(ledger.stdout)) failures.push("the ledger should show who created public.automation_rules by hand");

    step("What the incident write-up ran instead (as a dry run)");
    wrap(`The write-up "marked the 78 remote-only migrations as reverted (already applied)" with \`supabase migration repair --status reverted\`. That is backwards: --status reverted DELETES the history row. The SQL stays in the database, the history forgets that it ran, and if those files ever reach the repository, \`db push\` runs them a second time. drift-guard's --mark-reverted has the CLI's exact meaning; its dry run shows it (nothing is written):`);
    const seedVersions = REMOTE_VERSIONS.slice(0, 3);
    const reverted = await cli(["repair", "--mark-reverted", ...seedVersions, "--reason", "as in the 2025-10-27 write-up"]);
    if ((reverted.stdout.match(/^\s+delete\s+\d{14}/gm) ?? []).length !== 3) failures.push("the --mark-reverted dry run should plan 3 deletes");
    note(`Three deletes for three versions. For all 78 it would have erased the record of everything that ran in production, and \`supabase migration list\` would then look clean: not because the history was reconciled, but because 78 rows were gone (which matches the write-up's "no mismatches"). Not applied here.`);

    step(`Fetch the ${REMOTE_MIGRATIONS.length} remote-only migrations into files`);
    wrap(`Their statements are stored in the history, so they can be written out as files, reviewed and committed.`);
    const fetched = await cli(["fetch"], { collapse: /^wrote supabase\/migrations\// });
    if (!new RegExp(`^${REMOTE_MIGRATIONS.length} file\\(s\\) written`, "m").test(fetched.stdout)) failures.push(`fetch should write ${REMOTE_MIGRATIONS.length} files`);

    const second = await cli(["check"], { expect: 1 });
    if (!/in_sync 78\b/.test(second.stdout) || !new RegExp(`out_of_order ${legacyCount}\\b`).test(second.stdout)) failures.push(`after fetch: expected 78 in_sync and ${legacyCount} out_of_order`);

    step(`${HAND_CHANGED_MIGRATION.fileName} differs from production: record what production has first`);
    const liveFile = /The live definitions, to save as (\S+):/.exec(second.stdout)?.[1];
    const liveVersion = liveFile && /(\d{14})_record_live_definitions_/.exec(liveFile)?.[1];
    if (!liveFile || !liveVersion) throw new Error("check did not print the live definitions of the different file");
    const printed = second.stdout.slice(second.stdout.indexOf(`The live definitions, to save as ${liveFile}:`)).split("\n").slice(1);
    const liveSql = printed.slice(0, printed.findIndex((l) => !l.startsWith("        "))).map((l) => l.slice(8)).join("\n") + "\n";
    wrap(`Step 1 of 2: save the SQL check printed, which records the function as production has it, as a new migration. It is newer than everything applied, so replaying the migrations in order now builds what production has.`);
    say();
    say(bold(`$ # save the SQL above as ${liveFile}`));
    writeFileSync(join(work, liveFile), liveSql);
    wrap(`Step 2 of 2: mark the ${LEGACY_MIGRATIONS.length} identical files, ${HAND_CHANGED_MIGRATION.version} and the new ${liveVersion} applied (production already has all of it). Planned without --force-different, the plan names the difference and refuses to be applied:`);
    const legacyVersions = [...LEGACY_MIGRATIONS.map((m) => m.version), HAND_CHANGED_MIGRATION.version, liveVersion];
    const reason = "SQL ran by hand in the SQL editor; drift-guard check compared every definition";
    const refused = await cli(["repair", "--mark-applied", ...legacyVersions, "--reason", reason]);
    if (!/^Not applicable as is: 014 /m.test(refused.stdout)) failures.push("the plan without --force-different should refuse 014");

    step(`Plan: mark them applied (not reverted), with --force-different for ${HAND_CHANGED_MIGRATION.version}`);
    wrap(`Recorded as applied: version, name and the file's statements, exactly as \`supabase migration repair --status applied\` records them. No SQL runs. Without --apply this is a dry run against the current history digest.`);
    const plan = await cli(["repair", "--mark-applied", ...legacyVersions, "--force-different", "--reason", reason]);
    const planned = /^Plan \(dry run, nothing written\) against history (sha256:[0-9a-f]{64})$/m.exec(plan.stdout)?.[1];
    const plannedPlan = /--apply --expect-digest (sha256:[0-9a-f]{64})/.exec(plan.stdout)?.[1];
    const applyLine = /^\s*(drift-guard repair .* --apply --expect-digest sha256:[0-9a-f]{64})\s*$/m.exec(plan.stdout)?.[1];
    if (!planned || !plannedPlan || !applyLine) throw new Error("the dry run did not print the command to apply it");

    step("Apply exactly the reviewed plan");
    wrap(`The command the dry run printed. It applies only if the history digest is still the one the plan was made against and the plan digest (every change's version, name and statement checksum) is still the one reviewed; the change and the rows before it go into the audit log.`);
    const applyArgs = ["repair", "--mark-applied", ...legacyVersions, "--force-different", "--reason", reason, "--apply", "--expect-digest", plannedPlan];
    const applied = await cli(applyArgs, { shown: applyLine });
    const auditId = /Audit id: ([0-9a-f-]{36})/.exec(applied.stdout)?.[1];
    const digestAfter = /History is now (sha256:[0-9a-f]{64})/.exec(applied.stdout)?.[1];
    if (!auditId || !digestAfter) throw new Error("the apply did not print an audit id and the new digest");

    note(`The repair also linked the ledger's untracked entries for the objects these files create to their versions and to this repair's audit id: the check below has no untracked changes left.`);

    step("Verify");
    const third = await cli(["check"]);
    if (!/^in sync: 91 migration\(s\) match the history/m.test(third.stdout)) failures.push("after the repair: expected in sync, 91 migrations");
    note(`Running the same apply again is refused: the history is no longer the one that plan was reviewed against.`);
    await cli(applyArgs, { shown: applyLine, expect: 4 });

    step("Undo: every repair can be reversed");
    const undone = await cli(["undo", "--audit-id", auditId, "--reason", "demo: show that a repair can be reversed"]);
    const digestUndone = /History is now (sha256:[0-9a-f]{64})/.exec(undone.stdout)?.[1];
    say();
    if (digestUndone === planned) {
      say(`  ✓ the history digest is back to ${planned},`);
      say(`    the one the repair was planned against (it was ${digestAfter} after the repair).`);
    } else {
      failures.push(`undo should restore digest ${planned}, got ${digestUndone}`);
    }
    await cli(["audit"]);
    await cli(["check"], { expect: 1 });

    say();
    say(bold(failures.length ? "Demo finished with unexpected results:" : `Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`));
    for (const f of failures) say(`  ✗ ${f}`);
    if (!failures.length) {
      wrap(`In a real project: commit the fetched files, run the same repair with your own reason, and add .github/workflows/migration-drift.yml so that drift fails a pull request instead of surfacing months later.`);
    }
    return failures.length ? 1 : 0;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const unknown = process.argv.slice(2).filter((a) => a !== "--full");
  if (unknown.length) {
    process.stderr.write(`drift-guard-demo: unknown argument ${unknown[0]}\nusage: npm run demo [-- --full]\n`);
    process.exit(2);
  }
  runDemo({ full: process.argv.includes("--full") }).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`drift-guard-demo: ${err?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
