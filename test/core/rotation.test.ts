import { describe, expect, it } from 'vitest';
import { rotationSchema } from '../../src/core/oncall-settings.js';
import { rotationShift, startDateForNow } from '../../src/core/rotation.js';

describe('a weekly rotation kept by Tacit', () => {
  // 2026-11-30 is a Monday.
  const rotation = rotationSchema.parse({ people: ['alice', 'bob', 'carol'], handoffWeekday: 'mon', handoffTime: '09:00', timezone: 'Europe/Berlin', startDate: '2026-11-30' });

  it('has nobody before the first handoff, then each person for a week, the next in line as level 2', () => {
    expect(rotationShift(rotation, new Date('2026-11-30T07:59:00Z'))).toBeNull(); // 08:59 in Berlin
    expect(rotationShift(rotation, new Date('2026-11-30T08:00:00Z'))).toEqual({ levels: ['alice', 'bob'], until: new Date('2026-12-07T08:00:00Z') });
    expect(rotationShift(rotation, new Date('2026-12-07T08:00:00Z'))?.levels).toEqual(['bob', 'carol']);
    expect(rotationShift(rotation, new Date('2026-12-14T12:00:00Z'))?.levels).toEqual(['carol', 'alice']);
    expect(rotationShift(rotation, new Date('2026-12-21T12:00:00Z'))?.levels).toEqual(['alice', 'bob']);
  });

  it('hands over at the same local time across a daylight-saving change', () => {
    const spring = rotationSchema.parse({ people: ['a', 'b'], handoffWeekday: 'mon', handoffTime: '09:00', timezone: 'Europe/Berlin', startDate: '2027-03-22' });
    // Summer time starts 2027-03-28: the 2027-03-29 handoff is 07:00 UTC, not 08:00.
    expect(rotationShift(spring, new Date('2027-03-22T12:00:00Z'))?.until).toEqual(new Date('2027-03-29T07:00:00Z'));
    expect(rotationShift(spring, new Date('2027-03-29T07:00:00Z'))?.levels).toEqual(['b', 'a']);
  });

  it('starts the first handoff on the handoff weekday on or after the start date', () => {
    const midweek = rotationSchema.parse({ people: ['a', 'b'], handoffWeekday: 'mon', handoffTime: '09:00', timezone: 'UTC', startDate: '2026-12-02' });
    expect(rotationShift(midweek, new Date('2026-12-05T12:00:00Z'))).toBeNull();
    expect(rotationShift(midweek, new Date('2026-12-07T09:00:00Z'))?.levels).toEqual(['a', 'b']);
  });

  it('picks a start date that makes the first person on call now', () => {
    const now = new Date('2026-12-03T10:00:00Z'); // a Thursday
    const startDate = startDateForNow('mon', '09:00', 'UTC', now);
    expect(startDate).toBe('2026-11-30');
    expect(rotationShift({ ...rotation, timezone: 'UTC', startDate }, now)?.levels[0]).toBe('alice');
    expect(startDateForNow('thu', '11:00', 'UTC', now)).toBe('2026-11-26');
    expect(startDateForNow('thu', '09:00', 'UTC', now)).toBe('2026-12-03');
  });
});
