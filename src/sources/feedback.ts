// Feedback clicks ("Helpful" / "Not helpful" under a summary): one verdict per person and decision,
// recorded on the decision (a second click changes the verdict), then offered to the memory as a signal.
import { and, eq, sql } from 'drizzle-orm';
import type { InboundInteraction, InteractionResponse } from '../chat/port.js';
import { parseFeedbackValue, type FeedbackVerdict } from '../core/feedback.js';
import type { Db } from '../db/client.js';
import { decisions, feedback } from '../db/schema.js';
import type { Logger } from '../log.js';

export interface FeedbackDeps {
  db: Db;
  log: Logger;
  /** The decision's verdicts changed (memory may trust what it staged from it less). */
  onFeedback?(workspaceId: string, decisionId: string, verdict: FeedbackVerdict): Promise<void>;
}

export async function recordFeedback(deps: FeedbackDeps, click: InboundInteraction): Promise<InteractionResponse> {
  const parsed = parseFeedbackValue(click.value);
  if (!parsed) return { privateText: 'That feedback button is not one I made; nothing was recorded.' };
  // Scoped to the workspace the click came from: a decision id from elsewhere is simply not found.
  const [decision] = await deps.db
    .select({ id: decisions.id })
    .from(decisions)
    .where(and(eq(decisions.id, parsed.decisionId), eq(decisions.workspaceId, click.workspaceId)));
  if (!decision) return { privateText: 'I no longer have the decision behind that message, so I cannot record feedback on it.' };
  await deps.db
    .insert(feedback)
    .values({ workspaceId: click.workspaceId, decisionId: parsed.decisionId, person: click.user.id, verdict: parsed.verdict })
    .onConflictDoUpdate({ target: [feedback.decisionId, feedback.person], set: { verdict: parsed.verdict, at: sql`now()` } });
  deps.log.info({ workspaceId: click.workspaceId, decisionId: parsed.decisionId, verdict: parsed.verdict }, 'feedback recorded');
  await deps.onFeedback?.(click.workspaceId, parsed.decisionId, parsed.verdict).catch((err: unknown) =>
    deps.log.warn({ err, decisionId: parsed.decisionId }, 'memory could not take the feedback into account'),
  );
  return {
    privateText: parsed.verdict === 'helpful'
      ? 'Thanks: noted that this helped. (You can change your mind with the other button.)'
      : 'Thanks: noted that this did not help. What I remembered from it is trusted less. (The other button changes your verdict.)',
  };
}

/** Verdicts, in one workspace or all (the dashboard; /metrics counts in its scrape query). */
export async function feedbackCounts(db: Db, workspaceId?: string): Promise<{ helpful: number; notHelpful: number }> {
  const rows = await db
    .select({ verdict: feedback.verdict, n: sql<number>`count(*)::int` })
    .from(feedback)
    .where(workspaceId ? eq(feedback.workspaceId, workspaceId) : undefined)
    .groupBy(feedback.verdict);
  const of = (v: FeedbackVerdict) => Number(rows.find((r) => r.verdict === v)?.n ?? 0);
  return { helpful: of('helpful'), notHelpful: of('not_helpful') };
}
