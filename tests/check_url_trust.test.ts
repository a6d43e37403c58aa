/**
 * `check --url` trusts only the function it was pointed at:
 * https except loopback, no redirect to another origin, and a report must echo
 * the digest of the manifest that was sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./harness/cli_in_process.ts";
import { makeProject } from "./harness/supabase_cli.ts";

const TOKEN = "dg_0123456789ab_check-url-trust-token";

/** A fake in_sync report with no migrations: what an impostor would answer. */
const FAKE = {
  status: "in_sync",
  history_digest: `sha256:${"0".repeat(64)}`,
  summary: { in_sync: 0, edited: 0, renamed: 0, pending: 0, out_of_order: 0, remote_only: 0 },
  migrations: [],
  problems: [],
  actions: [],
};

interface Fake {
  server: Server;
  url: string;
  requests: Array<{ path: string; authorization?: string }>;
}

async function fakeServer(host: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Fake> {
  const requests: Fake["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
    req.resume();
    req.on("end", () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://${host === "::1" ? "[::1]" : host}:${port}`, requests };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
};

describe("check --url", () => {
  const project = makeProject({ "20240101000000_a.sql": "create table public.a (id int);\n" });
  let impostor: Fake, elsewhere: Fake, redirector: Fake, sameOrigin: Fake;
  beforeAll(async () => {
    impostor = await fakeServer("127.0.0.1", (_req, res) => json(res, 200, FAKE));
    // Another origin (another port) that would happily answer in the function's name.
    elsewhere = await fakeServer("127.0.0.1", (_req, res) => json(res, 200, FAKE));
    redirector = await fakeServer("127.0.0.1", (_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/drift` });
      res.end();
    });
    sameOrigin = await fakeServer("127.0.0.1", (req, res) => {
      if (req.url === "/old/drift") {
        res.writeHead(308, { location: "/new/drift" });
        res.end();
      } else json(res, 200, { ...FAKE, manifest_digest: `sha256:${"1".repeat(64)}` });
    });
  });
  afterAll(async () => {
    for (const f of [impostor, elsewhere, redirector, sameOrigin]) await new Promise((r) => f?.server.close(r));
    rmSync(project, { recursive: true, force: true });
  });
  const check = (url: string) => runCli(["check", "--url", url, "--token", TOKEN, "--format", "json"], { cwd: project });

  it("a fake in_sync report that does not echo the sent manifest's digest is an error (exit 3), not a pass", async () => {
    const r = await check(impostor.url);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/not a drift report for the manifest we sent/);
    expect(impostor.requests).toHaveLength(1);
  });

  it("a report about another manifest (wrong digest) is an error too; same-origin redirects are followed", async () => {
    const r = await check(`${sameOrigin.url}/old`);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/report about another manifest/);
    expect(sameOrigin.requests.map((q) => q.path)).toEqual(["/old/drift", "/new/drift"]);
  });

  it("a redirect to another origin is not followed: the token never reaches it", async () => {
    const r = await check(redirector.url);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/does not follow redirects to another origin/);
    expect(elsewhere.requests).toEqual([]);
    expect(r.stderr).not.toContain(TOKEN);
  });

  it("plain http is refused except to loopback, before anything is sent", async () => {
    for (const url of ["http://drift-guard.invalid/functions/v1/migration-drift", "http://private-network.invalid:8000", "ftp://127.0.0.1/x"]) {
      const r = await check(url);
      expect(r.status, url).toBe(2);
      expect(r.stderr).toMatch(/must be https:\/\//);
    }
    const upload = await runCli(["manifest", "upload", "--url", "http://drift-guard.invalid", "--token", TOKEN], { cwd: project });
    expect(upload.status).toBe(2);
  });
});
