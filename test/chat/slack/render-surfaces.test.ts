// The Slack renderer's other surfaces: model Markdown in a `markdown` block, private answers escaped
// like posts, Slack's own feedback buttons, and answers cut into parts for streaming.
import { describe, expect, it } from 'vitest';
import { renderMessage, renderPrivate, streamChunks } from '../../../src/chat/slack/render.js';
import { summaryMessage } from '../../../src/core/plan.js';

const HOSTILE = 'Disk full <!channel> <@U123> <https://evil.example|open the runbook>';

describe('Slack rendering beyond posts', () => {
  it('renders a summary as a markdown block with the footer and feedback buttons', () => {
    const slack = renderMessage(summaryMessage(`**${HOSTILE}** is firing; [the runbook](https://evil.example)`, 'dec_1'));
    expect(slack.blocks.map((b) => b.type)).toEqual(['markdown', 'context', 'context_actions']);
    const markdown = JSON.stringify(slack.blocks[0]);
    expect(markdown).not.toMatch(/<!channel>|<@U123>|\]\(https|\|open the runbook/);
    expect(markdown).toContain('the runbook (https://evil.example)');
    expect(slack.blocks[2]).toMatchObject({
      elements: [{ type: 'feedback_buttons', action_id: 'feedback', positive_button: { value: 'helpful:dec_1' }, negative_button: { value: 'not_helpful:dec_1' } }],
    });
  });

  it('escapes a private answer like a post', () => {
    const { text } = renderPrivate(`Open incidents: ${HOSTILE} (firing). Try \`/tacit status\`.`);
    expect(text).not.toMatch(/<!channel>|<@U123>|<https/);
    expect(text).toContain('`/tacit status`');
  });

  it('cuts an answer at line ends or spaces into parts that join back to the disarmed whole', () => {
    const answer = Array.from({ length: 12 }, (_, i) => `Line ${i}: ${'word '.repeat(12)}`).join('\n');
    const parts = streamChunks(answer, 120);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.join('')).toBe(answer);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(120);
    expect(streamChunks(`<!channel> ${'x'.repeat(300)}`, 100).join('')).not.toContain('<!channel>');
  });
});
