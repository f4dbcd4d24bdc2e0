// `bench investigate --fake`: Claude's side on the strict Anthropic stand-in (test/fakes/anthropic.ts).
// Its "model" reads the evidence quoted in the prompt the way the real one is asked to — which change
// touched what the errors name, which error began with the incident (more lines since the start wins,
// a cruder reading than the rules brain's) — and answers through post_findings. It measures the
// pipeline (prompt, quoting, tool call, validation, posting), not Claude's judgement.
import { startFakeAnthropic, type FakeAnthropic, type FakeRequest, type FakeResponse } from '../test/fakes/anthropic.js';

interface Evidence {
  incidentId: string;
  changes: { sha: string; title: string; at: string; files: { filename: string }[] }[];
  logs?: { top: { pattern: string; count: number; sinceStart?: number }[] };
  metric?: { labels: Record<string, string>; expr: string };
}

export async function startInvestigatorModel(): Promise<FakeAnthropic> {
  const fake = await startFakeAnthropic();
  fake.script(answer);
  return fake;
}

const words = (t: string) => new Set(t.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 4));

/** The quoted evidence blocks, back to JSON (the quoting escaped `<` before letters). */
function evidenceIn(prompt: string): Evidence[] {
  const blocks = [...prompt.matchAll(/<untrusted source="evidence for incident (inc_[\w-]+)"[^>]*>\n([\s\S]*?)\n<\/untrusted>/g)];
  return blocks.flatMap((m) => {
    try {
      const data = JSON.parse((m[2] ?? '').replace(/&lt;/g, '<')) as Omit<Evidence, 'incidentId'>;
      return [{ ...data, incidentId: m[1] ?? '' }];
    } catch {
      return [];
    }
  });
}

function promptOf(req: FakeRequest): string {
  const first = req.messages[0]?.content;
  return typeof first === 'string' ? first : '';
}

function answer(req: FakeRequest): FakeResponse {
  const tools = (req.tools ?? []).flatMap((t) => ('name' in t ? [t.name] : []));
  const found = evidenceIn(promptOf(req));
  if (!tools.includes('post_findings') || found.length === 0) return { content: [{ type: 'tool_use', name: 'stay_quiet', input: { reason: 'nothing to add' } }] };
  const calls = found.map((e) => {
    const errors = (e.logs?.top ?? []).filter((l) => (l.sinceStart ?? 0) > 0);
    const error = errors.sort((a, b) => (b.sinceStart ?? 0) - (a.sinceStart ?? 0))[0];
    const hurt = new Set([...words(error?.pattern ?? ''), ...Object.values(e.metric?.labels ?? {}).flatMap((v) => [...words(v)])]);
    const ranked = e.changes
      .map((c) => ({ c, overlap: [...words(`${c.title} ${c.files.map((f) => f.filename).join(' ')}`)].filter((w) => hurt.has(w)).length }))
      .sort((a, b) => b.overlap - a.overlap || Date.parse(b.c.at) - Date.parse(a.c.at));
    const top = ranked[0];
    const hypotheses = [
      ...(top && top.overlap > 0 ? [{ cause: `change ${top.c.sha.slice(0, 7)}: ${top.c.title}`, evidence: [`it touched ${top.c.files.map((f) => f.filename).slice(0, 2).join(', ')}`, ...(error ? [`"${error.pattern}" began with the incident`] : [])], confidence: 'high' as const }] : []),
      ...(error ? [{ cause: `the error "${error.pattern}"`, evidence: [`${error.sinceStart ?? error.count} lines since the start`], confidence: 'medium' as const }] : []),
    ];
    return {
      type: 'tool_use' as const, name: 'post_findings',
      input: { incidentId: e.incidentId, text: `Evidence read: ${e.changes.length} changes, ${e.logs?.top.length ?? 0} log patterns.`, hypotheses, unknown: hypotheses.length === 0 },
    };
  });
  return { content: [{ type: 'text', text: 'Matching the changed files against the errors that began with the incident.' }, ...calls] };
}
