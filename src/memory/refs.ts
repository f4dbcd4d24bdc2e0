// Source references: what a memory entry is about, as `kind:value` strings. Some kinds can be checked
// against live state (incident open, repo linked, PR open, alert firing); the others are provenance only.
export type SourceRef =
  | { kind: 'incident'; id: string }
  | { kind: 'repo'; repo: string }
  | { kind: 'pr'; repo: string; number: number }
  | { kind: 'alert'; fingerprint: string }
  | { kind: 'other'; ref: string };

const MAX_REFS = 20;
const MAX_REF_LENGTH = 200;
const REPO = /^[\w.-]+\/[\w.-]+$/;

export function parseRef(ref: string): SourceRef {
  const i = ref.indexOf(':');
  const kind = ref.slice(0, i);
  const value = ref.slice(i + 1);
  if (kind === 'incident' && value) return { kind, id: value };
  if (kind === 'repo' && REPO.test(value)) return { kind, repo: value };
  if (kind === 'alert' && value) return { kind, fingerprint: value };
  if (kind === 'pr') {
    const m = /^([\w.-]+\/[\w.-]+)#(\d{1,9})$/.exec(value);
    if (m?.[1] && m[2]) return { kind, repo: m[1], number: Number(m[2]) };
  }
  return { kind: 'other', ref };
}

/** Keeps well-formed `kind:value` references (lower-case kind, no spaces), each once, at most 20. */
export function cleanRefs(refs: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of refs) {
    const ref = raw.trim();
    if (ref.length > MAX_REF_LENGTH || !/^[a-z][a-z_-]{1,30}:\S+$/.test(ref) || out.includes(ref)) continue;
    out.push(ref);
    if (out.length === MAX_REFS) break;
  }
  return out;
}
