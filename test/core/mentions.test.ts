// Text Tacit did not write must never ping anyone.
import { describe, expect, it } from 'vitest';
import { neutraliseMentions } from '../../src/core/mentions.js';

describe('neutraliseMentions', () => {
  it.each(['@here', '@channel', '@everyone', '@all', '@HERE', '@Everyone'])('breaks the broadcast %s', (broadcast) => {
    const out = neutraliseMentions(`deploy failed ${broadcast} please look`);

    expect(out).not.toContain(broadcast);
    expect(out.replace(/\u2060/g, '')).toBe(`deploy failed ${broadcast} please look`);
  });

  it.each(['<@U123>', '<!here>', '<!channel>', '<#C1>', '<@&role>', '<@!123456789012345678>'])(
    'breaks the mention syntax %s',
    (mention) => {
      const out = neutraliseMentions(`ping ${mention} now`);

      expect(out).not.toContain(mention);
      expect(out).not.toMatch(/<[@!#&]/);
      expect(out.replace(/\u2060/g, '')).toBe(`ping ${mention} now`);
    },
  );

  it('breaks every mention in a text, not just the first', () => {
    const out = neutraliseMentions('<@U1> <@U2> @here @here');

    expect(out).not.toMatch(/<[@!#&]/);
    expect(out).not.toMatch(/@here/);
  });

  it('leaves email addresses unchanged', () => {
    expect(neutraliseMentions('write to a@b.com or oncall@example.org')).toBe('write to a@b.com or oncall@example.org');
  });

  it('leaves ordinary text unchanged', () => {
    const text = 'CPU at 95% on api-1 < 2 min; see https://grafana.example/d/abc?x=1&y=2 #incident';

    expect(neutraliseMentions(text)).toBe(text);
  });

  it('leaves words that merely start like a broadcast unchanged', () => {
    expect(neutraliseMentions('@channels and @heresy')).toBe('@channels and @heresy');
  });
});
