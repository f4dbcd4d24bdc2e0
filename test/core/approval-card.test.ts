// The approval card as people read it: matchers as Alertmanager writes them, times in the workspace's zone,
// every parameter in full or digested with its file, the risk, and buttons bound to the parameters' hash.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { approvalsNeeded, TACIT_REQUESTER } from '../../src/core/actions.js';
import { approvalCard, LONG_VALUE_CHARS, longValues, MAX_SHOWN_PARAMS, parseButtonValue, type ApprovalView } from '../../src/core/approval-card.js';
import type { OutgoingMessage } from '../../src/core/message.js';

const now = new Date('2026-12-01T07:32:00Z');

function view(overrides: Partial<ApprovalView> = {}): ApprovalView {
  return {
    id: 'apr_1',
    action: 'alertmanager.silence',
    params: {
      matchers: [
        { name: 'alertname', value: 'DiskFull', isRegex: false, isEqual: true },
        { name: 'severity', value: 'critical', isRegex: false, isEqual: true },
      ],
      durationMinutes: 30,
      comment: 'Asked by bob',
    },
    reason: 'bob asked to silence "DiskFull" for 30m.',
    status: 'pending',
    requestedBy: 'bob',
    approvers: 'user alice',
    expiresAt: new Date(now.getTime() + 15 * 60_000),
    paramsHash: 'a'.repeat(64),
    ...overrides,
  };
}

const fields = (m: OutgoingMessage) => Object.fromEntries((m.blocks ?? []).flatMap((b) => (b.kind === 'fields' ? b.fields.map((f) => [f.label, f.value]) : [])));
const sections = (m: OutgoingMessage) => (m.blocks ?? []).flatMap((b) => (b.kind === 'section' ? [b.text] : [])).join('\n');

describe('approvalCard', () => {
  it('shows matchers as alertname=DiskFull, severity=critical, not JSON, and the duration in words', () => {
    const f = fields(approvalCard(view(), { now, timezone: 'UTC' }));
    expect(f.Matchers).toBe('alertname=DiskFull, severity=critical');
    expect(f.Duration).toBe('30 min');
    expect(JSON.stringify(f)).not.toContain('isRegex');
  });

  it('writes regex and negative matchers with their operators, quoting values that are not plain words', () => {
    const matchers = [
      { name: 'job', value: 'api.*', isRegex: true, isEqual: true },
      { name: 'env', value: 'dev', isRegex: false, isEqual: false },
      { name: 'pod', value: 'web-.*', isRegex: true, isEqual: false },
      { name: 'summary', value: 'disk full, again', isRegex: false, isEqual: true },
    ];
    expect(fields(approvalCard(view({ params: { matchers } }))).Matchers).toBe('job=~"api.*", env!=dev, pod!~"web-.*", summary="disk full, again"');
  });

  it('says when a pending request expires in the workspace zone, with how long is left', () => {
    expect(fields(approvalCard(view(), { now, timezone: 'UTC' })).Expires).toBe('07:47 UTC (in 15 min)');
    expect(fields(approvalCard(view(), { now, timezone: 'Europe/Berlin' })).Expires).toBe('08:47 CET (in 15 min)');
  });

  it('tells who decided when, and the executor\'s times as people read them', () => {
    const done = approvalCard(view({
      status: 'executed', decidedBy: 'alice', decidedAt: new Date(now.getTime() + 60_000),
      result: 'silence 4f2 until 2026-12-01T08:03:00.000Z', verification: { ok: true, detail: 'silence 4f2 is active until 2026-12-01T08:03:00.000Z' },
    }), { now: new Date(now.getTime() + 90_000), timezone: 'UTC' });
    expect(sections(done)).toContain('Approved by alice at 07:33 UTC.');
    expect(sections(done)).toContain('Result: silence 4f2 until 08:03 UTC (in 30 min)');
    expect(sections(done)).toContain('Verified: silence 4f2 is active until 08:03 UTC (in 30 min)');
    expect(JSON.stringify(done)).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it('shows a Deny\'s reason after who denied it, and no buttons', () => {
    const denied = approvalCard(view({ status: 'denied', decidedBy: 'bob', decidedAt: new Date(now.getTime() + 60_000), decisionNote: ' not during the release ' }), { now, timezone: 'UTC' });
    expect(sections(denied)).toContain('Denied by bob at 07:33 UTC: not during the release');
    expect(denied.blocks?.some((b) => b.kind === 'actions')).toBe(false);
    expect(sections(approvalCard(view({ status: 'denied', decidedBy: 'bob' }), { now, timezone: 'UTC' }))).toContain('Denied by bob.');
  });

  it('keeps other parameters readable: strings as they are, lists joined, objects as JSON', () => {
    const f = fields(approvalCard(view({ params: { silenceId: 'abc', labels: ['a', 'b'], extra: { k: 1 } } })));
    expect(f).toMatchObject({ 'Silence id': 'abc', Labels: 'a, b', Extra: '{"k":1}' });
  });
});

describe('approvalCard: what a click approves', () => {
  const hash = 'c0ffee'.repeat(10) + 'abcd';
  const buttons = (m: OutgoingMessage) => (m.blocks ?? []).flatMap((b) => (b.kind === 'actions' ? b.buttons : []));

  it('binds both buttons to the approval id and the parameters hash, and shows the short hash', () => {
    const card = approvalCard(view({ paramsHash: hash }));
    expect(buttons(card).map((b) => b.value)).toEqual([`apr_1:${hash.slice(0, 16)}`, `apr_1:${hash.slice(0, 16)}`]);
    expect(parseButtonValue(buttons(card)[0]?.value ?? '')).toEqual({ approvalId: 'apr_1', hash: hash.slice(0, 16) });
    expect(fields(card)['Parameters hash']).toBe(`sha256 ${hash.slice(0, 16)}`);
  });

  it('shows every short parameter in full, however many lines, and never cuts one', () => {
    const comment = 'x'.repeat(LONG_VALUE_CHARS);
    const f = fields(approvalCard(view({ params: { comment, note: 'one\ntwo\nthree\nfour' } })));
    expect(f.Comment).toBe(comment);
    expect(f.Note).toBe('one\ntwo\nthree\nfour');
  });

  it('digests a long value (first lines, length, sha256) and names the file with its full text', () => {
    const body = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    const params = { repo: 'acme/shop', body };
    const [file] = longValues('apr_12345678-aaaa', params);
    expect(file).toMatchObject({ param: 'body', filename: 'approval-12345678-body.txt', content: body });
    expect(file?.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    const shown = fields(approvalCard(view({ id: 'apr_12345678-aaaa', params })));
    expect(shown.Body).toBe(`line 0\nline 1\nline 2…\n(${body.length.toLocaleString('en-US')} characters; full text in approval-12345678-body.txt, sha256 ${file?.sha256.slice(0, 16)}…)`);
    expect(shown.Repo).toBe('acme/shop');
  });

  it('digests parameters past what a card can hold, in field blocks of at most ten', () => {
    const params = Object.fromEntries(Array.from({ length: MAX_SHOWN_PARAMS + 2 }, (_, i) => [`p${i}`, `v${i}`]));
    const card = approvalCard(view({ params }));
    expect(longValues('apr_1', params).map((f) => f.param)).toEqual([`p${MAX_SHOWN_PARAMS}`, `p${MAX_SHOWN_PARAMS + 1}`]);
    expect((card.blocks ?? []).filter((b) => b.kind === 'fields').every((b) => b.kind === 'fields' && b.fields.length <= 10)).toBe(true);
    expect(fields(card)[`P${MAX_SHOWN_PARAMS}`]).toContain('full text in');
  });

  it('shows the risk, and how many people must approve and who did so far', () => {
    const card = approvalCard(view({ risk: 'dangerous', approvalsNeeded: 2, approvedSoFar: ['alice'] }));
    expect(fields(card).Risk).toBe('dangerous: two people (or a workspace admin) must approve');
    expect(fields(card)['Who may approve']).toBe('user alice (2 different people)');
    expect(sections(card)).toContain('Approved so far by alice; one more person must approve.');
  });
});

describe('approvalsNeeded', () => {
  const policy = { users: ['alice', 'bob'], groups: [], twoPerson: false };
  it('asks two people for a dangerous action and for Tacit\'s own proposal under two-person; one otherwise', () => {
    expect(approvalsNeeded('dangerous', policy, 'alice')).toBe(2);
    expect(approvalsNeeded('write', policy, TACIT_REQUESTER)).toBe(1);
    expect(approvalsNeeded('write', { ...policy, twoPerson: true }, TACIT_REQUESTER)).toBe(2);
    // A person's own request under two-person: someone else approves (one person, not the requester).
    expect(approvalsNeeded('write', { ...policy, twoPerson: true }, 'alice')).toBe(1);
  });
});
