// The GitHub source against its stand-in, through Octokit: a merge's commit, a push's compared range,
// a deploy's latest status, and an unknown commit refused (not retried).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceRejectedError } from '../../src/investigate/errors.js';
import { changeEvidence, githubClient } from '../../src/investigate/github.js';
import { startFakeGithub, type FakeGithub } from '../fakes/github.js';

describe('the GitHub source', () => {
  let github: FakeGithub;
  const token = 'ghp_sourcetest0123456789';
  const client = (signal = AbortSignal.timeout(3_000)) => githubClient(github.apiUrl, token, signal);
  const at = new Date().toISOString();
  beforeAll(async () => {
    github = await startFakeGithub({ owner: 'acme', repo: 'shop', hookId: 1, token });
    github.commits.set('a'.repeat(40), { message: 'Tune pool', files: [{ filename: 'small.go', additions: 1, deletions: 1 }, { filename: 'big.go', additions: 90, deletions: 10 }] });
    github.deployments.push({ id: 7, sha: 'a'.repeat(40), environment: 'production', state: 'failure' });
  });
  afterAll(() => github.close());

  it('reads a commit\'s files, most changed first, with its stats', async () => {
    const c = await changeEvidence(client(), { repo: 'acme/shop', sha: 'a'.repeat(40), change: 'merge', title: 'PR #1 merged: Tune pool', url: null, at }, AbortSignal.timeout(3_000));
    expect(c).toMatchObject({ filesTotal: 2, additions: 91, deletions: 11, files: [{ filename: 'big.go' }, { filename: 'small.go' }] });
    expect(c.deploy).toBeUndefined();
  });

  it('compares a push\'s range, and tells a deploy\'s latest status', async () => {
    const push = await changeEvidence(client(), { repo: 'acme/shop', sha: 'a'.repeat(40), change: 'push', title: 'push to main', url: `https://github.com/acme/shop/compare/${'b'.repeat(12)}...${'a'.repeat(40)}`, at }, AbortSignal.timeout(3_000));
    expect(push.filesTotal).toBe(2);
    const deploy = await changeEvidence(client(), { repo: 'acme/shop', sha: 'a'.repeat(40), change: 'deploy', title: 'deploy to production', url: null, at }, AbortSignal.timeout(3_000));
    expect(deploy.deploy).toEqual({ environment: 'production', state: 'failure' });
  });

  it('refuses an unknown commit or a bad token as a rejection', async () => {
    await expect(changeEvidence(client(), { repo: 'acme/shop', sha: 'c'.repeat(40), change: 'merge', title: 'x', url: null, at }, AbortSignal.timeout(3_000))).rejects.toThrow(SourceRejectedError);
    await expect(changeEvidence(githubClient(github.apiUrl, 'wrong', AbortSignal.timeout(3_000)), { repo: 'acme/shop', sha: 'a'.repeat(40), change: 'merge', title: 'x', url: null, at }, AbortSignal.timeout(3_000))).rejects.toThrow(/GitHub answered 401/);
  });
});
