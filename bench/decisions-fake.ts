// `bench decisions --brain claude --fake`: Claude replaced by the strict stand-in of the Messages API
// (test/fakes/anthropic.ts, the one the tests use), so the benchmark runs with no key and no money while
// exercising the real SDK, the real request rules, thinking blocks and prompt-cache accounting. The
// stand-in's "model" reads the decision prompt and speaks for the transitions people want to hear about.
import { startFakeAnthropic, type FakeAnthropic, type FakeBlock, type FakeRequest, type FakeResponse } from '../test/fakes/anthropic.js';

const SPEAK_ON = new Set(['opened', 'resolved', 'recurred', 'flapping', 'unacknowledged']);

export interface FakeClaude {
  url: string;
  fake: FakeAnthropic;
  /** Starts a scenario: an empty prompt cache, as a workspace's first call of the day would find it. */
  coldStart(): void;
  close(): Promise<void>;
}

/** The stand-in, with its cache clock driven by the replayed scenario (`now`, ms since epoch). */
export async function startFakeClaude(now: () => number): Promise<FakeClaude> {
  const fake = await startFakeAnthropic({ now });
  const coldStart = () => {
    fake.reset();
    fake.script(answer);
  };
  coldStart();
  return { url: fake.url, fake, coldStart, close: () => fake.close() };
}

function promptOf(req: FakeRequest): string {
  const first = req.messages[0]?.content;
  return typeof first === 'string' ? first : JSON.stringify(first);
}

/**
 * Incident transitions (`inc_1 opened`), failed repository events, and default branches turning red or
 * green that the prompt reports. When the prompt lists branch changes, only those are CI news.
 */
function newsIn(prompt: string): { incidents: { id: string; kind: string }[]; failedEvents: number[]; branches: { eventId: number; state: string; branch: string }[] } {
  const changes = /^Changes: (.*)\.$/m.exec(prompt)?.[1] ?? 'none';
  const seen = new Set<string>();
  const incidents = [...changes.matchAll(/(inc_[\w-]+) (\w+)/g)]
    .filter((m) => SPEAK_ON.has(m[2] ?? ''))
    .map((m) => ({ id: m[1] ?? '', kind: m[2] ?? '' }))
    .filter((x) => !seen.has(x.id) && seen.add(x.id));
  const branches = [...prompt.matchAll(/event (\d+): \S+ (\S+) turned (red|green)/g)].map((m) => ({ eventId: Number(m[1]), branch: m[2] ?? '', state: m[3] ?? '' }));
  const healthKnown = prompt.includes('Default-branch CI:');
  const failedEvents = [...prompt.matchAll(/event (\d+): repo [^\n]*\(failure\)/g)]
    .filter((m) => !healthKnown || !/ on \S+ \(failure\)/.test(m[0]) || !/CI|workflow/i.test(m[0]))
    .map((m) => Number(m[1]))
    .filter((id) => !branches.some((b) => b.eventId === id));
  return { incidents, failedEvents, branches };
}

function answer(req: FakeRequest): FakeResponse {
  const names = (req.tools ?? []).flatMap((t) => ('name' in t ? [t.name] : []));
  const news = newsIn(promptOf(req));
  const digestDue = /daily digest for \S+ is due/.test(promptOf(req));
  const worthIt = news.incidents.length > 0 || news.failedEvents.length > 0 || news.branches.length > 0 || digestDue;
  if (names.includes('triage')) {
    return { content: [{ type: 'tool_use', name: 'triage', input: { worth_it: worthIt, reason: worthIt ? 'an incident changed state' : 'nothing new' } }] };
  }
  if (!names.includes('post_summary') || req.messages.length > 1) {
    return { content: [{ type: 'tool_use', name: 'stay_quiet', input: { reason: 'said what was needed' } }] };
  }
  const calls: FakeBlock[] = [
    ...news.incidents.map(({ id: incidentId, kind }): FakeBlock => ({
      type: 'tool_use', name: 'post_summary', input: { incidentId, text: kind === 'resolved' ? `${incidentId} resolved: how long it lasted, what fixed it.` : `Summary of ${incidentId} (${kind}): what broke, since when, likely suspects, next steps.` },
    })),
    ...news.failedEvents.map((eventId): FakeBlock => ({ type: 'tool_use', name: 'post_notice', input: { eventId, text: 'CI is failing on the default branch.' } })),
    ...news.branches.map(({ eventId, state, branch }): FakeBlock => ({
      type: 'tool_use', name: 'post_notice', input: { eventId, text: state === 'red' ? `CI failed on ${branch}: the default branch is red.` : `${branch} is green again.` },
    })),
  ];
  if (digestDue) calls.push({ type: 'tool_use', name: 'post_digest', input: { text: 'Daily digest: what opened, what resolved, what is still open.' } });
  if (calls.length === 0) calls.push({ type: 'tool_use', name: 'stay_quiet', input: { reason: 'nothing the on-call needs now' } });
  // Adaptive thinking: the stand-in returns this as a signed thinking block and bills it as output.
  return { content: [{ type: 'text', text: 'Checking which changes the on-call would want to hear about now.' }, ...calls] };
}
