// A local GitHub: the webhook sender and the hook delivery API (list deliveries, redeliver), speaking
// GitHub's REST shapes so the real Octokit can talk to it. Redelivery re-sends the stored payload
// to the hook URL with the original GUID, as GitHub does, and records the attempt.
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: null;
  repository_id: number;
}

interface Stored {
  event: string;
  body: string;
}

export interface FakeGithub {
  apiUrl: string;
  deliveries: FakeDelivery[];
  redeliveryRequests: number[];
  /** Where the hook delivers, and its secret (known once the source exists in Tacit). */
  setHook(hook: { url: string; secret: string }): void;
  /** Issues, comments and workflow runs of the one repository, for actions. */
  issues: { number: number; title: string; body: string; state: 'open' | 'closed'; html_url: string }[];
  comments: { id: number; issue_number: number; body: string }[];
  runs: Map<number, { id: number; run_attempt: number; status: string; conclusion: string | null; run_started_at?: string }>;
  rerunRequests: number[];
  /** Commits by sha, for GET commits/{ref} and compare/{base}...{head} (the head's files): diff stats and files. */
  commits: Map<string, { message: string; files: { filename: string; additions: number; deletions: number }[] }>;
  /** Deployments by sha with their latest status, for GET deployments?sha= and deployments/{id}/statuses. */
  deployments: { id: number; sha: string; environment: string; state: string }[];
  /** Sends a webhook to the hook URL (as GitHub would), recording the attempt and its status. */
  deliver(event: string, payload: unknown): Promise<FakeDelivery>;
  close(): Promise<void>;
}

export async function startFakeGithub(opts: { owner: string; repo: string; hookId: number; token: string }): Promise<FakeGithub> {
  let hook = { url: 'http://127.0.0.1:9/unset', secret: '' };
  const deliveries: FakeDelivery[] = [];
  const payloads = new Map<string, Stored>();
  const redeliveryRequests: number[] = [];
  let nextId = 1000;
  const issues: FakeGithub['issues'] = [];
  const comments: FakeGithub['comments'] = [];
  const runs: FakeGithub['runs'] = new Map();
  const rerunRequests: number[] = [];
  const commits: FakeGithub['commits'] = new Map();
  const deployments: FakeGithub['deployments'] = [];
  const repoBase = `/repos/${opts.owner}/${opts.repo}`;
  const readJson = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
  };

  async function send(guid: string, stored: Stored, redelivery: boolean): Promise<FakeDelivery> {
    const started = Date.now();
    let statusCode = 0;
    let status = 'failed to connect to host';
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': stored.event,
          'x-github-delivery': guid,
          'x-github-hook-id': String(opts.hookId),
          'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(stored.body).digest('hex')}`,
        },
        body: stored.body,
      });
      statusCode = res.status;
      status = res.ok ? 'OK' : `Invalid HTTP Response: ${res.status}`;
    } catch {
      // Connection refused: Tacit is down.
    }
    const delivery: FakeDelivery = {
      id: nextId++, guid, delivered_at: new Date().toISOString(), redelivery, duration: (Date.now() - started) / 1000,
      status, status_code: statusCode, event: stored.event, action: null, installation_id: null, repository_id: 1,
    };
    deliveries.unshift(delivery); // GitHub lists newest first
    return delivery;
  }

  const base = `/repos/${opts.owner}/${opts.repo}/hooks/${opts.hookId}/deliveries`;
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `token ${opts.token}` && req.headers.authorization !== `Bearer ${opts.token}`) {
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'GET' && url.pathname === base) return json(200, deliveries);
    const redeliver = new RegExp(`^${base}/(\\d+)/attempts$`).exec(url.pathname);
    if (req.method === 'POST' && redeliver) {
      const id = Number(redeliver[1]);
      const original = deliveries.find((d) => d.id === id);
      const stored = original && payloads.get(original.guid);
      if (!original || !stored) return json(404, { message: 'Not Found' });
      redeliveryRequests.push(id);
      json(202, {});
      void send(original.guid, stored, true);
      return;
    }
    void (async () => {
      const run = /^\/actions\/runs\/(\d+)(\/rerun-failed-jobs)?$/.exec(url.pathname.slice(repoBase.length));
      if (url.pathname.startsWith(repoBase) && run) {
        const r = runs.get(Number(run[1]));
        if (!r) return json(404, { message: 'Not Found' });
        if (req.method === 'GET' && !run[2]) return json(200, r);
        if (req.method === 'POST' && run[2]) {
          rerunRequests.push(r.id);
          r.run_attempt += 1;
          r.run_started_at = new Date().toISOString();
          r.status = 'queued';
          r.conclusion = null;
          return json(201, {});
        }
      }
      if (url.pathname === `${repoBase}/issues`) {
        if (req.method === 'GET') return json(200, [...issues].reverse());
        if (req.method === 'POST') {
          const input = await readJson(req);
          if (typeof input.title !== 'string' || !input.title) return json(422, { message: 'Validation Failed' });
          const number = issues.length + comments.length + 1;
          const issue = { number, title: input.title, body: String(input.body ?? ''), state: 'open' as const, html_url: `https://github.com/${opts.owner}/${opts.repo}/issues/${number}` };
          issues.push(issue);
          return json(201, issue);
        }
      }
      const issue = /^\/issues\/(\d+)(\/comments)?$/.exec(url.pathname.slice(repoBase.length));
      if (url.pathname.startsWith(repoBase) && issue) {
        const n = Number(issue[1]);
        if (!issue[2] && req.method === 'GET') {
          const found = issues.find((i) => i.number === n);
          return found ? json(200, found) : json(404, { message: 'Not Found' });
        }
        if (issue[2] && req.method === 'GET') return json(200, comments.filter((c) => c.issue_number === n));
        if (issue[2] && req.method === 'POST') {
          const input = await readJson(req);
          const comment = { id: 5000 + comments.length, issue_number: n, body: String(input.body ?? '') };
          comments.push(comment);
          return json(201, comment);
        }
      }
      const comment = /^\/issues\/comments\/(\d+)$/.exec(url.pathname.slice(repoBase.length));
      if (url.pathname.startsWith(repoBase) && comment && req.method === 'GET') {
        const found = comments.find((c) => c.id === Number(comment[1]));
        return found ? json(200, found) : json(404, { message: 'Not Found' });
      }
      // Commits, comparisons and deployments: the read-only shapes investigations use (files, stats, statuses).
      const rest = url.pathname.slice(repoBase.length);
      const commitFiles = (sha: string) => commits.get(sha)?.files.map((f) => ({ ...f, changes: f.additions + f.deletions, status: 'modified', sha: `blob-${sha}` }));
      const commit = /^\/commits\/([\w.-]+)$/.exec(rest);
      if (url.pathname.startsWith(repoBase) && commit && req.method === 'GET') {
        const sha = commit[1] ?? '';
        const files = commitFiles(sha);
        const c = commits.get(sha);
        if (!files || !c) return json(422, { message: `No commit found for SHA: ${sha}`, documentation_url: 'https://docs.github.com/rest/commits/commits#get-a-commit' });
        const additions = files.reduce((n, f) => n + f.additions, 0);
        const deletions = files.reduce((n, f) => n + f.deletions, 0);
        return json(200, { sha, commit: { message: c.message }, stats: { additions, deletions, total: additions + deletions }, files });
      }
      const compare = /^\/compare\/([\w.-]+)\.\.\.([\w.-]+)$/.exec(rest);
      if (url.pathname.startsWith(repoBase) && compare && req.method === 'GET') {
        const files = commitFiles(compare[2] ?? '');
        if (!files) return json(404, { message: 'Not Found' });
        return json(200, { status: 'ahead', ahead_by: 1, behind_by: 0, total_commits: 1, commits: [{ sha: compare[2] }], files });
      }
      if (url.pathname === `${repoBase}/deployments` && req.method === 'GET') {
        const sha = url.searchParams.get('sha');
        return json(200, deployments.filter((d) => !sha || d.sha === sha).map((d) => ({ id: d.id, sha: d.sha, environment: d.environment, ref: d.sha })));
      }
      const statuses = /^\/deployments\/(\d+)\/statuses$/.exec(rest);
      if (url.pathname.startsWith(repoBase) && statuses && req.method === 'GET') {
        const d = deployments.find((x) => x.id === Number(statuses[1]));
        return d ? json(200, [{ id: d.id * 10, state: d.state, environment: d.environment }]) : json(404, { message: 'Not Found' });
      }
      json(404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    apiUrl: `http://127.0.0.1:${port}`,
    deliveries,
    redeliveryRequests,
    issues,
    comments,
    runs,
    rerunRequests,
    commits,
    deployments,
    setHook(next) {
      hook = next;
    },
    deliver(event, payload) {
      const guid = randomUUID();
      const stored = { event, body: JSON.stringify(payload) };
      payloads.set(guid, stored);
      return send(guid, stored, false);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
