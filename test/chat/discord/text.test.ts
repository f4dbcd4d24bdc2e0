// What data may not do on Discord: format itself, hide a link, ping, restyle a line; and thread names
// that read as the incident's title, whatever the alert text carried.
import { describe, expect, it } from 'vitest';
import { cleanThreadName, escapeData, escapeProse } from '../../../src/chat/discord/text.js';

const HOSTILE = 'Disk full @everyone <@123> [open the runbook](https://evil.example)';

describe('Discord text safety', () => {
  it('escapes markdown in data, breaks masked links and neutralises every mention', () => {
    const safe = escapeData(`${HOSTILE} **bold** _it_ ~~x~~ \`code\` ||spoiler||`);
    expect(safe).not.toMatch(/@everyone|<@123>|(?<!\\)\]\(https/);
    expect(safe).toContain('\\[open the runbook\\](https://evil.example)');
    expect(safe).toContain('\\*\\*bold\\*\\*');
    expect(safe).toContain('\\_it\\_');
    expect(safe).toContain('\\|\\|spoiler\\|\\|');
    expect(escapeData('apr_1a2b snake_case')).toBe('apr_1a2b snake_case');
    expect(escapeData('# big\n> quote\n-# small')).toBe('\\# big\n\\> quote\n\\-# small');
  });

  it('keeps Tacit\'s own code spans in prose but never a disguised link or a ping', () => {
    const safe = escapeProse(`Use \`/tacit approvers @a [two-person]\`. ${HOSTILE}`);
    expect(safe).toContain('`/tacit approvers @a [two-person]`');
    expect(safe).not.toMatch(/@everyone|<@123>|(?<!\\)\]\(https/);
  });

  it('names a thread after the title alone: no status word, markup, mention, link or timestamp, about 60 characters', () => {
    expect(cleanThreadName(`### 🔴 Firing: ${HOSTILE}`)).toBe('Disk full open the runbook');
    expect(cleanThreadName('**DiskFull** on db-1 since 2026-12-01T07:32:10.123Z')).toBe('DiskFull on db-1 since');
    const long = cleanThreadName('word '.repeat(40));
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.endsWith('…')).toBe(true);
    expect(cleanThreadName('@here <@1>')).toBe('Tacit');
  });
});
