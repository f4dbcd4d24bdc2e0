// GitHub as an evidence source: for each suspect change already correlated with the incident, the
// commit's (or compared range's) diff stats and the files it touched, and a deploy's latest status.
// Read-only, through Octokit against the workspace's `github` integration (its apiUrl and token).
import { Octokit } from '@octokit/rest';
import type { ChangeFinding } from '../core/evidence.js';
import type { Suspect } from '../core/incidents.js';
import { sanitizeUntrusted } from '../core/untrusted.js';
import { SourceRejectedError, SourceTimeoutError, SourceUnreachableError } from './errors.js';

const MAX_FILES = 20;

export function githubClient(apiUrl: string, token: string, signal: AbortSignal): Octokit {
  return new Octokit({
    auth: token,
    baseUrl: apiUrl.replace(/\/+$/, ''),
    request: { signal, retries: 0 },
    userAgent: 'tacit',
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

interface DiffFile {
  filename: string;
  additions: number;
  deletions: number;
}

/** The diff of one suspect: its compare range when its link is one (a push), its commit otherwise. */
export async function changeEvidence(octokit: Octokit, suspect: Suspect & { sha: string }, signal: AbortSignal): Promise<ChangeFinding> {
  const [owner = '', repo = ''] = suspect.repo.split('/');
  const range = suspect.url ? /\/compare\/([^/?#]+\.\.\.[^/?#]+)/.exec(suspect.url)?.[1] : undefined;
  const diff = await octo(signal, async () => {
    if (range) {
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: decodeURIComponent(range), per_page: 100 });
      const files = (data.files ?? []).map(toFile);
      return { files, additions: sum(files, 'additions'), deletions: sum(files, 'deletions') };
    }
    const { data } = await octokit.rest.repos.getCommit({ owner, repo, ref: suspect.sha, per_page: 100 });
    const files = (data.files ?? []).map(toFile);
    return { files, additions: data.stats?.additions ?? sum(files, 'additions'), deletions: data.stats?.deletions ?? sum(files, 'deletions') };
  });
  const finding: ChangeFinding = {
    repo: suspect.repo,
    sha: suspect.sha,
    title: sanitizeUntrusted(suspect.title, 200).text,
    at: suspect.at,
    change: suspect.change,
    url: suspect.url,
    files: [...diff.files].sort((a, b) => b.additions + b.deletions - (a.additions + a.deletions)).slice(0, MAX_FILES),
    filesTotal: diff.files.length,
    additions: diff.additions,
    deletions: diff.deletions,
  };
  if (suspect.change === 'deploy') {
    const deploy = await deployStatus(octokit, owner, repo, suspect.sha, signal);
    if (deploy) finding.deploy = deploy;
  }
  return finding;
}

async function deployStatus(octokit: Octokit, owner: string, repo: string, sha: string, signal: AbortSignal): Promise<ChangeFinding['deploy'] | null> {
  return octo(signal, async () => {
    const { data: deployments } = await octokit.rest.repos.listDeployments({ owner, repo, sha, per_page: 5 });
    const latest = deployments[0];
    if (!latest) return null;
    const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({ owner, repo, deployment_id: latest.id, per_page: 1 });
    return { environment: latest.environment, state: statuses[0]?.state ?? 'unknown' };
  });
}

function toFile(f: { filename: string; additions: number; deletions: number }): DiffFile {
  return { filename: sanitizeUntrusted(f.filename, 200).text, additions: f.additions, deletions: f.deletions };
}

function sum(files: DiffFile[], key: 'additions' | 'deletions'): number {
  return files.reduce((n, f) => n + f[key], 0);
}

/** Octokit's errors as the source errors: 4xx is a refusal (bad token, unknown commit), the rest unreachable. */
async function octo<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } catch (err) {
    if (signal.aborted) throw new SourceTimeoutError(performance.now() - started);
    const status = (err as { status?: number }).status;
    if (status && status >= 400 && status < 500 && status !== 408 && status !== 429) throw new SourceRejectedError(`GitHub answered ${status}: ${(err as Error).message}`, status);
    throw new SourceUnreachableError(`GitHub: ${(err as Error).message}`, { cause: err });
  }
}
