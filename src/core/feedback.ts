// Feedback on what Tacit wrote: two buttons under a summary ("Helpful" / "Not helpful") whose value
// names the verdict and the decision behind the message. Pure: the chat intake records the click.
import type { Block } from './message.js';

export const FEEDBACK_ACTION_ID = 'feedback';

export type FeedbackVerdict = 'helpful' | 'not_helpful';

const VALUE = /^(helpful|not_helpful):(dec_[A-Za-z0-9_-]{1,80})$/;

/** The two buttons, as an `actions` block (Slack renders them as its native feedback_buttons). */
export function feedbackButtons(decisionId: string): Block {
  return {
    kind: 'actions',
    buttons: [
      { actionId: FEEDBACK_ACTION_ID, value: `helpful:${decisionId}`, label: 'Helpful' },
      { actionId: FEEDBACK_ACTION_ID, value: `not_helpful:${decisionId}`, label: 'Not helpful' },
    ],
  };
}

/** True when a block is the feedback pair (renderers with a native control use it instead). */
export function isFeedbackBlock(block: Block): boolean {
  return block.kind === 'actions' && block.buttons.length === 2 && block.buttons.every((b) => b.actionId === FEEDBACK_ACTION_ID);
}

/** What a click's value says, or null when it is not a feedback value Tacit wrote. */
export function parseFeedbackValue(value: string): { verdict: FeedbackVerdict; decisionId: string } | null {
  const m = VALUE.exec(value);
  return m?.[1] && m[2] ? { verdict: m[1] as FeedbackVerdict, decisionId: m[2] } : null;
}
