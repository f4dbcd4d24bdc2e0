import { describe, expect, it } from 'vitest';
import { commandAccess, mayChangeSettings, needsGroupLookup } from '../../src/core/roles.js';

const none = { users: [], groups: [] };

describe('who may change settings', () => {
  it('lets the platform admin change settings', () => {
    expect(mayChangeSettings({ id: 'U1', admin: true }, none)).toEqual({ allowed: true, via: 'platform admin' });
  });

  it('refuses a plain member, and lets them in once they are on the allow-list or in an admin group', () => {
    expect(mayChangeSettings({ id: 'U1' }, none)).toMatchObject({ allowed: false, reason: 'not an admin' });
    expect(mayChangeSettings({ id: 'U1' }, { users: ['U1'], groups: [] })).toEqual({ allowed: true, via: 'allow-list' });
    expect(mayChangeSettings({ id: 'U1' }, { users: [], groups: ['S1'] }, new Set(['S1']))).toEqual({ allowed: true, via: 'admin group' });
    expect(mayChangeSettings({ id: 'U1' }, { users: [], groups: ['S1'] }, new Set(['S2']))).toMatchObject({ allowed: false });
  });

  it('never lets a guest or an external person change anything, whatever the lists or their own admin flag say', () => {
    const lists = { users: ['U1'], groups: ['S1'] };
    expect(mayChangeSettings({ id: 'U1', guest: true, admin: true }, lists, new Set(['S1']))).toMatchObject({ allowed: false, reason: 'guest' });
    expect(mayChangeSettings({ id: 'U1', external: true, admin: true }, lists, new Set(['S1']))).toMatchObject({ allowed: false, reason: 'external' });
  });

  it('asks the platform about groups only when the answer could change the outcome', () => {
    expect(needsGroupLookup({ id: 'U1' }, { users: [], groups: ['S1'] })).toBe(true);
    expect(needsGroupLookup({ id: 'U1', admin: true }, { users: [], groups: ['S1'] })).toBe(false);
    expect(needsGroupLookup({ id: 'U1', guest: true }, { users: [], groups: ['S1'] })).toBe(false);
    expect(needsGroupLookup({ id: 'U1' }, none)).toBe(false);
  });
});

describe('which commands change something', () => {
  it('keeps reading open: status, memory, sources, help, and settings shown without arguments', () => {
    for (const verb of ['status', 'memory', 'sources', 'help', '']) expect(commandAccess(verb, [])).toBe('read');
    for (const verb of ['budget', 'quiet-hours', 'digest', 'approvers', 'admins']) {
      expect(commandAccess(verb, [])).toBe('read');
      expect(commandAccess(verb, ['x'])).toBe('change');
    }
  });

  it('treats pausing, connecting, forgetting, rotating, revoking and integrations as changes, whatever the arguments', () => {
    for (const verb of ['pause', 'resume', 'connect', 'forget', 'rotate', 'revoke', 'integration']) expect(commandAccess(verb, [])).toBe('change');
  });

  it('knows no other verb: it runs nothing', () => {
    expect(commandAccess('frobnicate', ['x'])).toBe('unknown');
  });
});
