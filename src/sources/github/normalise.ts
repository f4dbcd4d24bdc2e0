// GitHub repository webhooks normalised into repo events: what changed (merge, push, deploy, release,
// workflow, check, issue), for correlating incidents with the changes shortly before them.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { repoEventSchema, type RepoEvent } from '../../core/events.js';
import { describeIssues, type RepoNormaliser } from '../normalised.js';

/** Titles are untrusted text from the repository; keep them to one short line's worth. */
const TITLE_MAX = 300;

const time = z.iso.datetime({ offset: true });
const optionalTime = time.nullable().optional();
const optionalText = z.string().nullable().optional();

const envelopeSchema = z.object({
  action: z.string().optional(),
  repository: z.object({ full_name: z.string().min(1), default_branch: optionalText }),
  sender: z.object({ login: z.string() }).nullable().optional(),
});

/** What an event says beyond the repository and the sender; `at` is null when the payload has no time. */
type Change = Pick<RepoEvent, 'title' | 'url' | 'sha' | 'branch' | 'change' | 'outcome' | 'environment'> & {
  at: string | null | undefined;
  urgent?: boolean;
};
type Built = { ok: true; change: Change } | { ok: false; reason: string };
type Builder = (json: unknown, defaultBranch: string | null) => Built;

function from<S extends z.ZodType>(schema: S, build: (data: z.output<S>, defaultBranch: string | null) => Change): Builder {
  return (json, defaultBranch) => {
    const parsed = schema.safeParse(json);
    return parsed.success ? { ok: true, change: build(parsed.data, defaultBranch) } : { ok: false, reason: describeIssues(parsed.error.issues) };
  };
}

const none = { url: null, sha: null, branch: null, outcome: null, environment: null } as const;

const push = from(
  z.object({
    ref: z.string(),
    after: z.string(),
    deleted: z.boolean().optional(),
    compare: optionalText,
    commits: z.array(z.unknown()).optional(),
    head_commit: z.object({ message: z.string(), timestamp: time }).nullable().optional(),
  }),
  (p) => {
    const branch = p.ref.startsWith('refs/heads/') ? p.ref.slice('refs/heads/'.length) : null;
    const at = p.head_commit?.timestamp;
    const url = p.compare ?? null;
    if (!branch || p.deleted) {
      const what = branch ? `branch ${branch}` : p.ref.replace(/^refs\/tags\//, 'tag ');
      return { ...none, change: 'other', title: `${what} ${p.deleted ? 'deleted' : 'pushed'}`, url, sha: p.deleted ? null : p.after, at };
    }
    const count = p.commits?.length ?? 0;
    const summary = p.head_commit ? firstLine(p.head_commit.message) : `${count} commit${count === 1 ? '' : 's'}`;
    return { ...none, change: 'push', title: `push to ${branch}: ${summary}`, url, sha: p.after, branch, at };
  },
);

const pullRequest = from(
  z.object({
    action: z.string(),
    number: z.number().int(),
    pull_request: z.object({
      title: z.string(), html_url: z.string(), merged: z.boolean().nullable().optional(), merge_commit_sha: optionalText,
      merged_at: optionalTime, updated_at: optionalTime, base: z.object({ ref: z.string() }), head: z.object({ ref: z.string(), sha: z.string() }),
    }),
  }),
  ({ action, number, pull_request: pr }) =>
    action === 'closed' && pr.merged
      ? { ...none, change: 'merge', title: `PR #${number} merged: ${pr.title}`, url: pr.html_url, sha: pr.merge_commit_sha ?? null, branch: pr.base.ref, at: pr.merged_at }
      : { ...none, change: 'other', title: `PR #${number} ${action}: ${pr.title}`, url: pr.html_url, sha: pr.head.sha, branch: pr.head.ref, at: pr.updated_at },
);

const workflowRun = from(
  z.object({
    action: z.string(),
    workflow: z.object({ name: optionalText }).nullable().optional(),
    workflow_run: z.object({
      name: optionalText, status: z.string(), conclusion: optionalText, head_branch: optionalText,
      head_sha: z.string(), html_url: z.string(), updated_at: optionalTime,
    }),
  }),
  ({ action, workflow, workflow_run: run }, defaultBranch) => {
    const outcome = runOutcome(action === 'completed' || run.status === 'completed', run.conclusion);
    const branch = run.head_branch ?? null;
    const name = run.name || workflow?.name || 'workflow';
    return {
      ...none,
      change: 'workflow',
      title: `${name} ${run.conclusion ?? run.status}${onBranch(branch)}`,
      url: run.html_url,
      sha: run.head_sha,
      branch,
      outcome,
      at: run.updated_at,
      // A broken default branch blocks everyone; failures on feature branches are that author's news.
      urgent: outcome === 'failure' && branch !== null && branch === defaultBranch,
    };
  },
);

const checkRun = from(
  z.object({
    action: z.string(),
    check_run: z.object({
      name: z.string(), status: z.string(), conclusion: optionalText, head_sha: z.string(), html_url: optionalText,
      started_at: optionalTime, completed_at: optionalTime, check_suite: z.object({ head_branch: optionalText }).nullable().optional(),
    }),
  }),
  ({ action, check_run: check }) => {
    const branch = check.check_suite?.head_branch ?? null;
    return {
      ...none,
      change: 'check',
      title: `${check.name} ${check.conclusion ?? check.status}${onBranch(branch)}`,
      url: check.html_url ?? null,
      sha: check.head_sha,
      branch,
      outcome: runOutcome(action === 'completed' || check.status === 'completed', check.conclusion),
      at: check.completed_at ?? check.started_at,
    };
  },
);

const deploymentStatus = from(
  z.object({
    deployment_status: z.object({
      state: z.string(), environment: optionalText, target_url: optionalText, environment_url: optionalText, created_at: time,
    }),
    deployment: z.object({ sha: z.string(), ref: z.string(), environment: optionalText }),
  }),
  ({ deployment_status: status, deployment }) => {
    const environment = status.environment || deployment.environment || null;
    const outcome = deployOutcome(status.state);
    return {
      change: 'deploy',
      title: `deploy of ${deployment.ref}${environment ? ` to ${environment}` : ''}: ${status.state}`,
      // GitHub sends "" for URLs nobody set.
      url: status.target_url || status.environment_url || null,
      sha: deployment.sha,
      branch: deployment.ref,
      outcome,
      environment,
      at: status.created_at,
      urgent: outcome === 'failure',
    };
  },
);

const issues = from(
  z.object({
    action: z.string(),
    issue: z.object({ number: z.number().int(), title: z.string(), html_url: z.string(), created_at: optionalTime, updated_at: optionalTime }),
  }),
  ({ action, issue }) => ({
    ...none,
    change: 'issue',
    title: `issue #${issue.number} ${action}: ${issue.title}`,
    url: issue.html_url,
    at: issue.updated_at ?? issue.created_at,
  }),
);

const release = from(
  z.object({
    action: z.string(),
    release: z.object({ tag_name: z.string(), html_url: z.string(), published_at: optionalTime, created_at: optionalTime }),
  }),
  ({ action, release: r }) => {
    const shipped = action === 'published' || action === 'released' || action === 'created';
    return {
      ...none,
      change: shipped ? 'release' : 'other',
      title: shipped ? `release ${r.tag_name}` : `release ${r.tag_name} ${action}`,
      url: r.html_url,
      at: r.published_at ?? r.created_at,
    };
  },
);

const builders: Record<RepoEvent['event'], Builder> = {
  push,
  pull_request: pullRequest,
  workflow_run: workflowRun,
  check_run: checkRun,
  deployment_status: deploymentStatus,
  issues,
  release,
};

export const normaliseGithub: RepoNormaliser = (eventName, json, { source, headers, receivedAt }) => {
  // `ping` and every event not in the repo event schema are accepted and carry nothing Tacit correlates.
  const event = repoEventSchema.shape.event.safeParse(eventName);
  if (!event.success) return { ok: true, items: [] };

  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `GitHub ${eventName} without a repository: ${describeIssues(envelope.error.issues)}` };
  const { action, repository, sender } = envelope.data;
  const defaultBranch = repository.default_branch ?? null;
  const built = builders[event.data](json, defaultBranch);
  if (!built.ok) return { ok: false, reason: `GitHub ${eventName} without the fields Tacit needs: ${built.reason}` };

  const { at, urgent, ...change } = built.change;
  const when = at ?? receivedAt.toISOString();
  // GitHub does not redeliver on its own; a manual redelivery keeps its X-GitHub-Delivery id.
  const delivery = headers['x-github-delivery'] ?? `${eventName}:${createHash('sha256').update(JSON.stringify(json)).digest('hex')}`;
  const repoEvent: RepoEvent = {
    kind: 'repo',
    sourceId: source.id,
    event: event.data,
    action: action ?? null,
    repo: repository.full_name,
    defaultBranch,
    actor: sender?.login ?? null,
    channelId: source.channelId,
    ...change,
    // By code point, so an emoji is never cut in half.
    title: [...change.title].slice(0, TITLE_MAX).join(''),
    at: when,
  };
  return { ok: true, items: [{ dedupeKey: `github:${source.id}:${delivery}`, urgent: urgent ?? false, occurredAt: new Date(when), event: repoEvent }] };
};

/** Workflow and check conclusions: only a real breakage is a failure; a cancel or skip is not news. */
function runOutcome(completed: boolean, conclusion: string | null | undefined): RepoEvent['outcome'] {
  if (!completed || !conclusion) return 'pending';
  if (conclusion === 'success') return 'success';
  if (conclusion === 'failure' || conclusion === 'timed_out' || conclusion === 'startup_failure') return 'failure';
  return 'neutral';
}

function deployOutcome(state: string): RepoEvent['outcome'] {
  if (state === 'success') return 'success';
  if (state === 'failure' || state === 'error') return 'failure';
  if (state === 'pending' || state === 'queued' || state === 'in_progress') return 'pending';
  if (state === 'inactive') return 'neutral';
  return null;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function onBranch(branch: string | null): string {
  return branch ? ` on ${branch}` : '';
}
