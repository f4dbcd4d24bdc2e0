// GitHub actions through Octokit: rerun a failed workflow run, open an issue, comment on a PR or issue.
// Created issues and comments carry the approval id, so a retry can find an earlier success.
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import type { ActionDefinition, ExecuteContext } from '../types.js';
import { PermanentActionError } from '../types.js';

const repo = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name');

function client(ctx: ExecuteContext): Octokit {
  return new Octokit({
    auth: String(ctx.integration.secrets.token),
    baseUrl: String(ctx.integration.settings.apiUrl).replace(/\/+$/, ''),
    request: { signal: ctx.signal, retries: 0 },
    userAgent: 'tacit',
    // Errors reach the approval's card and audit; Octokit's own console output is not wanted.
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

function split(full: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = full.split('/');
  return { owner, repo: name };
}

const marker = (approvalId: string) => `<!-- tacit approval ${approvalId} -->`;

/** Octokit errors: 4xx other than 408/429 cannot be fixed by retrying. */
async function gh<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status && status >= 400 && status < 500 && status !== 408 && status !== 429) {
      throw new PermanentActionError(`GitHub answered ${status}: ${(err as Error).message}`);
    }
    throw err;
  }
}

const rerunParams = z.object({ repo, runId: z.number().int().positive() });
const rerun: ActionDefinition<z.infer<typeof rerunParams>> = {
  name: 'github.rerun_workflow',
  description: 'Re-run the failed jobs of a GitHub Actions workflow run (repo owner/name and run id).',
  risk: 'write',
  integration: 'github',
  params: rerunParams,
  async execute(ctx, p) {
    const octo = client(ctx);
    const before = await gh(() => octo.rest.actions.getWorkflowRun({ ...split(p.repo), run_id: p.runId }));
    await gh(() => octo.rest.actions.reRunWorkflowFailedJobs({ ...split(p.repo), run_id: p.runId }));
    return { summary: `re-running failed jobs of run ${p.runId} in ${p.repo}`, data: { attemptBefore: before.data.run_attempt ?? 1 } };
  },
  async verify(ctx, p, result) {
    const run = await gh(() => client(ctx).rest.actions.getWorkflowRun({ ...split(p.repo), run_id: p.runId }));
    const attempt = run.data.run_attempt ?? 1;
    const before = Number(result.data.attemptBefore ?? 1);
    return attempt > before
      ? { ok: true, detail: `run ${p.runId} is on attempt ${attempt} (${run.data.status ?? 'unknown'})` }
      : { ok: false, detail: `run ${p.runId} is still on attempt ${attempt}` };
  },
  async findDone(ctx, p) {
    // A re-run carries no marker; an attempt that started after the approval can only be this one's.
    if (!ctx.approvedAt) return null;
    const run = await gh(() => client(ctx).rest.actions.getWorkflowRun({ ...split(p.repo), run_id: p.runId }));
    const attempt = run.data.run_attempt ?? 1;
    const started = run.data.run_started_at ? new Date(run.data.run_started_at) : null;
    if (attempt < 2 || !started || started < ctx.approvedAt) return null;
    return { summary: `re-running failed jobs of run ${p.runId} in ${p.repo} (started by an earlier attempt)`, data: { attemptBefore: attempt - 1 } };
  },
};

const issueParams = z.object({ repo, title: z.string().trim().min(1).max(256), body: z.string().max(20_000).default('') });
const openIssue: ActionDefinition<z.infer<typeof issueParams>> = {
  name: 'github.open_issue',
  description: 'Open an issue in a GitHub repository (owner/name, title, body).',
  risk: 'write',
  integration: 'github',
  params: issueParams,
  async execute(ctx, p) {
    const res = await gh(() => client(ctx).rest.issues.create({ ...split(p.repo), title: p.title, body: `${p.body}\n\n${marker(ctx.approvalId)}` }));
    return { summary: `opened ${p.repo}#${res.data.number}`, data: { number: res.data.number, url: res.data.html_url } };
  },
  async verify(ctx, p, result) {
    const res = await gh(() => client(ctx).rest.issues.get({ ...split(p.repo), issue_number: Number(result.data.number) }));
    return res.data.title === p.title
      ? { ok: true, detail: `${p.repo}#${res.data.number} exists (${res.data.state})` }
      : { ok: false, detail: `${p.repo}#${res.data.number} has a different title` };
  },
  async findDone(ctx, p) {
    const res = await gh(() => client(ctx).rest.issues.listForRepo({ ...split(p.repo), state: 'all', per_page: 50, sort: 'created', direction: 'desc' }));
    const found = res.data.find((i) => (i.body ?? '').includes(marker(ctx.approvalId)));
    return found ? { summary: `opened ${p.repo}#${found.number} (by an earlier attempt)`, data: { number: found.number, url: found.html_url } } : null;
  },
};

const commentParams = z.object({ repo, number: z.number().int().positive(), body: z.string().trim().min(1).max(20_000) });
const comment: ActionDefinition<z.infer<typeof commentParams>> = {
  name: 'github.comment',
  description: 'Comment on a GitHub pull request or issue (owner/name, number, body).',
  risk: 'write',
  integration: 'github',
  params: commentParams,
  async execute(ctx, p) {
    const res = await gh(() => client(ctx).rest.issues.createComment({ ...split(p.repo), issue_number: p.number, body: `${p.body}\n\n${marker(ctx.approvalId)}` }));
    return { summary: `commented on ${p.repo}#${p.number}`, data: { commentId: res.data.id } };
  },
  async verify(ctx, p, result) {
    const res = await gh(() => client(ctx).rest.issues.getComment({ ...split(p.repo), comment_id: Number(result.data.commentId) }));
    return (res.data.body ?? '').includes(marker(ctx.approvalId))
      ? { ok: true, detail: `comment ${res.data.id} is on ${p.repo}#${p.number}` }
      : { ok: false, detail: `comment ${res.data.id} does not carry this approval` };
  },
  async findDone(ctx, p) {
    const res = await gh(() => client(ctx).rest.issues.listComments({ ...split(p.repo), issue_number: p.number, per_page: 100 }));
    const found = res.data.find((c) => (c.body ?? '').includes(marker(ctx.approvalId)));
    return found ? { summary: `commented on ${p.repo}#${p.number} (by an earlier attempt)`, data: { commentId: found.id } } : null;
  },
};

export const githubActions = [rerun, openIssue, comment];
