// What a brain decides: to stay quiet, or to speak through explicit, structured intents.
export interface Usage {
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicroUsd: number;
}

export const noUsage: Usage = {
  modelCalls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costMicroUsd: 0,
};

export type Intent =
  /** A summary in the incident's thread; the parent card is created first if needed. */
  | { type: 'post_summary'; incidentId: string; text: string }
  /** A fresh channel message announcing that a resolved incident is back. */
  | { type: 'announce_recurrence'; incidentId: string; text: string }
  /** A reminder in the thread that a firing incident is still unacknowledged. */
  | { type: 'nudge'; incidentId: string; text: string }
  /** A notice about a repository change people need to know about (CI broken on the default branch). */
  | { type: 'notice'; channelId: string; key: string; text: string }
  /** The daily digest, posted to a channel once per local date. */
  | { type: 'digest'; channelId: string; date: string; text: string }
  /** What an investigation found (src/investigate), in the incident's thread, once per investigation; with its chart, if any. */
  | { type: 'post_findings'; incidentId: string; investigationId: string; text: string; chart?: { filename: string; base64: string }; hypotheses?: Hypothesis[] }
  /** A text file (report, timeline, log excerpt) uploaded into the incident's thread. */
  | { type: 'attach_file'; incidentId: string; filename: string; content: string }
  /** A direct message to one person who needs to know (the on-call, an approver). */
  | { type: 'notify_person'; personId: string; incidentId: string; text: string }
  /** Ask people to approve an action; nothing runs until an authorised person approves it. */
  | { type: 'propose_action'; action: string; params: Record<string, unknown>; reason: string; incidentId?: string }
  /** Stage a memory; it becomes active only after what it records is verified. */
  | { type: 'remember'; topic: string; hint: string; body: string; sources: string[] };

/** A possible cause of an incident, ranked by a brain: what it is, the evidence it rests on, how sure. */
export interface Hypothesis {
  cause: string;
  evidence: string[];
  confidence: 'high' | 'medium' | 'low';
}

/** `brain`: which brain actually decided, when it differs from the one asked (a fallback). */
export type Decision =
  | { kind: 'quiet'; reasons: string[]; usage: Usage; brain?: string }
  | { kind: 'speak'; reasons: string[]; intents: Intent[]; usage: Usage; brain?: string };

export interface Reply {
  text: string;
  usage: Usage;
  brain?: string;
}
