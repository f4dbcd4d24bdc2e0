// People's verdicts as a signal for memory: entries remembered from a message that more people found
// not helpful than helpful are retired (kept as rows, out of the index). Modest on purpose: feedback
// can only make memory trust itself less, never more.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { feedback, memories } from '../db/schema.js';

/** Returns the ids retired because of the decision's verdicts. */
export async function applyFeedback(db: Db, workspaceId: string, decisionId: string, now: Date): Promise<string[]> {
  const votes = await db
    .select({ verdict: feedback.verdict, n: sql<number>`count(*)::int` })
    .from(feedback)
    .where(and(eq(feedback.workspaceId, workspaceId), eq(feedback.decisionId, decisionId)))
    .groupBy(feedback.verdict);
  const count = (v: string) => Number(votes.find((r) => r.verdict === v)?.n ?? 0);
  const [bad, good] = [count('not_helpful'), count('helpful')];
  if (bad <= good) return [];
  const rows = await db
    .update(memories)
    .set({ status: 'superseded', staleReason: `people found the message it came from not helpful (${bad} to ${good})`, updatedAt: now })
    .where(and(eq(memories.workspaceId, workspaceId), eq(memories.decisionId, decisionId), inArray(memories.status, ['staged', 'active', 'stale'])))
    .returning({ id: memories.id });
  return rows.map((r) => r.id);
}
