// GitHub webhook deliveries (real payloads from @octokit/webhooks-examples) normalised into repo events.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoEventSchema, type RepoEvent } from '../../../src/core/events.js';
import { normaliseGithub } from '../../../src/sources/github/normalise.js';
import type { HeaderMap, Normalised, NormaliseResult } from '../../../src/sources/normalised.js';

const RECEIVED_AT = '2026-11-21T13:45:00.000Z';
const DELIVERY = { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };

type Body = Record<string, unknown>;

function fixture(name: string): Body {
  return JSON.parse(readFileSync(new URL(`../../fixtures/github/${name}.json`, import.meta.url), 'utf8')) as Body;
}

/** A fixture with the object under `key` changed (or the top level, without a key). */
function variant(name: string, key: string | null, changes: Body): Body {
  const body = fixture(name);
  return key ? { ...body, [key]: { ...(body[key] as Body), ...changes } } : { ...body, ...changes };
}

function normalise(eventName: string, json: unknown, headers: HeaderMap = DELIVERY): NormaliseResult<RepoEvent> {
  return normaliseGithub(eventName, json, {
    source: { id: 'src_gh', channelId: 'c_eng', settings: {} },
    headers,
    receivedAt: new Date(RECEIVED_AT),
  });
}

function only(eventName: string, json: unknown, headers: HeaderMap = DELIVERY): Normalised<RepoEvent> {
  const result = normalise(eventName, json, headers);
  if (!result.ok) throw new Error(`expected ok, got: ${result.reason}`);
  expect(result.items).toHaveLength(1);
  const [item] = result.items;
  if (!item) throw new Error('expected exactly one item');
  return { ...item, event: repoEventSchema.parse(item.event) };
}

function reasonFor(eventName: string, json: unknown): string {
  const result = normalise(eventName, json);
  if (result.ok) throw new Error('expected the body to be rejected');
  return result.reason;
}

describe('normaliseGithub: push', () => {
  it('turns a branch push into a push with its head commit, compare link and delivery dedupe key', () => {
    const normalised = only('push', fixture('push'));

    expect(normalised).toMatchObject({ dedupeKey: 'github:src_gh:72d3162e-cc78-11e3-81ab-4c9367dc0958', urgent: false });
    expect(normalised.occurredAt.toISOString()).toBe('2019-05-15T15:19:25.000Z');
    expect(normalised.event).toEqual({
      kind: 'repo',
      sourceId: 'src_gh',
      channelId: 'c_eng',
      event: 'push',
      action: null,
      repo: 'Codertocat/Hello-World',
      defaultBranch: 'master',
      title: 'push to master: Initial commit',
      url: 'https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      actor: 'Codertocat',
      sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
      branch: 'master',
      change: 'push',
      outcome: null,
      environment: null,
      at: '2019-05-15T15:19:25Z',
    });
  });

  it('counts commits when the push has no head commit, and keeps only the first line of a message', () => {
    expect(only('push', variant('push', null, { head_commit: null })).event.title).toBe('push to master: 1 commit');
    expect(only('push', variant('push', 'head_commit', { message: 'Fix retries\n\nLong body' })).event.title).toBe('push to master: Fix retries');
  });

  it('treats tag pushes and deleted branches as other changes', () => {
    const tag = only('push', variant('push', null, { ref: 'refs/tags/v1.2.0' })).event;
    const deleted = only('push', variant('push', null, { deleted: true, head_commit: null })).event;

    expect(tag).toMatchObject({ change: 'other', title: 'tag v1.2.0 pushed', branch: null });
    expect(deleted).toMatchObject({ change: 'other', title: 'branch master deleted', sha: null, at: RECEIVED_AT });
  });
});

describe('normaliseGithub: pull requests', () => {
  it('turns a merged pull request into a merge onto its base branch', () => {
    const { event } = only('pull_request', fixture('pull_request.closed'));

    expect(event).toMatchObject({
      change: 'merge',
      action: 'closed',
      title: 'PR #2 merged: Update the README with new information.',
      sha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85',
      branch: 'master',
      url: 'https://github.com/Codertocat/Hello-World/pull/2',
      at: '2019-05-15T15:21:18Z',
    });
  });

  it('treats a pull request closed without merging as another change', () => {
    const { event } = only('pull_request', variant('pull_request.closed', 'pull_request', { merged: false, merged_at: null }));

    expect(event).toMatchObject({ change: 'other', title: 'PR #2 closed: Update the README with new information.' });
  });
});

describe('normaliseGithub: workflow runs and checks', () => {
  it('turns a completed successful run into a non-urgent workflow success', () => {
    const normalised = only('workflow_run', fixture('workflow_run.completed'));

    expect(normalised.urgent).toBe(false);
    expect(normalised.event).toMatchObject({
      change: 'workflow',
      outcome: 'success',
      title: 'test success on master',
      branch: 'master',
      sha: '3484a3fb816e0859fd6e1cea078d76385ff50625',
      url: 'https://github.com/octo-org/octo-repo/actions/runs/289782451',
      at: '2020-10-05T16:33:49Z',
    });
  });

  it('is urgent when a run fails on the default branch, and not on another branch', () => {
    const failed = (changes: Body) => only('workflow_run', variant('workflow_run.completed', 'workflow_run', { conclusion: 'failure', ...changes }));

    expect(failed({})).toMatchObject({ urgent: true, event: { outcome: 'failure' } });
    expect(failed({ head_branch: 'feature/x' })).toMatchObject({ urgent: false, event: { outcome: 'failure' } });
  });

  it('maps conclusions: timed out is a failure, cancelled is neutral, an unfinished run is pending', () => {
    const outcomeOf = (changes: Body, action = 'completed') =>
      only('workflow_run', { ...variant('workflow_run.completed', 'workflow_run', changes), action }).event.outcome;

    expect(outcomeOf({ conclusion: 'timed_out' })).toBe('failure');
    expect(outcomeOf({ conclusion: 'startup_failure' })).toBe('failure');
    expect(outcomeOf({ conclusion: 'cancelled' })).toBe('neutral');
    expect(outcomeOf({ conclusion: 'action_required' })).toBe('neutral');
    expect(outcomeOf({ status: 'in_progress', conclusion: null }, 'in_progress')).toBe('pending');
  });

  it('turns a completed failed check run into a non-urgent check failure on its commit', () => {
    const normalised = only('check_run', fixture('check_run.completed'));

    expect(normalised.urgent).toBe(false);
    expect(normalised.event).toMatchObject({
      change: 'check',
      outcome: 'failure',
      title: 'Octocoders-linter failure on changes',
      sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      branch: 'changes',
      at: '2019-05-15T15:21:12Z',
    });
  });
});

describe('normaliseGithub: deployments, issues and releases', () => {
  it('turns a successful deployment status into a deploy to its environment', () => {
    const normalised = only('deployment_status', fixture('deployment_status.created'));

    expect(normalised.urgent).toBe(false);
    expect(normalised.event).toMatchObject({
      change: 'deploy',
      outcome: 'success',
      environment: 'production',
      sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
      branch: 'master',
      title: 'deploy of master to production: success',
      // The fixture's target_url is "", which is no link.
      url: null,
      at: '2019-05-15T15:20:55Z',
    });
  });

  it('makes a failed or errored deployment urgent, and maps pending and inactive states', () => {
    const deploy = (state: string) => only('deployment_status', variant('deployment_status.created', 'deployment_status', { state }));

    expect(deploy('failure')).toMatchObject({ urgent: true, event: { outcome: 'failure' } });
    expect(deploy('error')).toMatchObject({ urgent: true, event: { outcome: 'failure' } });
    expect(deploy('queued').event.outcome).toBe('pending');
    expect(deploy('inactive').event.outcome).toBe('neutral');
  });

  it('turns an opened issue into an issue change', () => {
    expect(only('issues', fixture('issues.opened')).event).toMatchObject({
      change: 'issue',
      action: 'opened',
      title: 'issue #1 opened: Spelling error in the README file',
      url: 'https://github.com/Codertocat/Hello-World/issues/1',
    });
  });

  it('turns a published release into a release, and a deleted one into another change', () => {
    expect(only('release', fixture('release.published')).event).toMatchObject({
      change: 'release',
      title: 'release 0.0.1',
      url: 'https://github.com/Codertocat/Hello-World/releases/tag/0.0.1',
      at: '2019-05-15T15:20:53Z',
    });
    expect(only('release', { ...fixture('release.published'), action: 'deleted' }).event).toMatchObject({ change: 'other', title: 'release 0.0.1 deleted' });
  });
});

describe('normaliseGithub: everything else', () => {
  it('accepts ping and events it does not follow, storing nothing', () => {
    expect(normalise('ping', fixture('ping'))).toEqual({ ok: true, items: [] });
    expect(normalise('star', fixture('ping'))).toEqual({ ok: true, items: [] });
  });

  it('cuts untrusted titles to 300 characters', () => {
    const { event } = only('issues', variant('issues.opened', 'issue', { title: 'x'.repeat(1000) }));

    expect(event.title).toHaveLength(300);
  });

  it('without a delivery id, dedupes on a hash of the body that is stable across deliveries', () => {
    const first = only('push', fixture('push'), {});
    const again = only('push', fixture('push'), {});

    expect(first.dedupeKey).toMatch(/^github:src_gh:push:[0-9a-f]{64}$/);
    expect(again.dedupeKey).toBe(first.dedupeKey);
  });

  it('rejects a delivery without a repository', () => {
    const { repository: _repository, ...body } = fixture('push');

    expect(reasonFor('push', body)).toMatch(/repository/);
  });

  it('rejects a pull request event without its pull request, naming the field', () => {
    const { pull_request: _pr, ...body } = fixture('pull_request.closed');

    expect(reasonFor('pull_request', body)).toMatch(/GitHub pull_request without the fields Tacit needs: pull_request/);
  });
});
