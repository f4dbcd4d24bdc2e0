// Text from data shown anywhere: links spelled out so no label hides its address, mentions broken.
import { describe, expect, it } from 'vitest';
import { disarm, spellOutLinks } from '../../src/core/disarm.js';

describe('disarm', () => {
  it('spells out a Slack-style link and a Markdown link with their addresses', () => {
    expect(spellOutLinks('see <https://evil.example|open the runbook> now')).toBe('see open the runbook (https://evil.example) now');
    expect(spellOutLinks('see [open the runbook](https://evil.example "t") now')).toBe('see open the runbook (https://evil.example) now');
    expect(spellOutLinks('![img](https://evil.example/x.png)')).toBe('img (https://evil.example/x.png)');
  });

  it('leaves a link whose label is its address, and plain text, as they are', () => {
    expect(spellOutLinks('[https://a.example](https://a.example) and a < b > c')).toBe('https://a.example and a < b > c');
  });

  it('breaks mentions too', () => {
    const out = disarm('Disk full <!channel> <@U123> <https://evil.example|open the runbook> @here');
    expect(out).not.toMatch(/<!channel>|<@U123>|\|open|@here\b/);
    expect(out.replace(/\u2060/g, '')).toBe('Disk full <!channel> <@U123> open the runbook (https://evil.example) @here');
  });
});
