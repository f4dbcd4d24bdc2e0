// The gap-aware history cursor: it moves only over stored messages, a failure holds it until a
// backfill stores the message, and nothing advances while a backfill is reading the cursors.
import { describe, expect, it } from 'vitest';
import { HistoryCursors } from '../../../src/chat/discord/cursor.js';

const CH = 'discord:100000000000000001/200000000000000001';

function tracker() {
  const advanced: string[] = [];
  const cursors = new HistoryCursors((_channel, id) => advanced.push(id));
  const store = (id: number, ok = true) => {
    const attempt = cursors.begin(CH, String(id));
    if (attempt) cursors.done(attempt, ok);
  };
  return { cursors, advanced, store };
}

describe('gap-aware Discord history cursors', () => {
  it('advances over stored messages in order', () => {
    const { cursors, advanced, store } = tracker();
    store(4);
    store(5);
    expect(advanced).toEqual(['4', '5']);
    expect(cursors.cursorOf(CH)).toBe('5');
  });

  it('stays before a message that failed to store even when later ones were stored', () => {
    const { cursors, advanced, store } = tracker();
    store(4);
    store(5, false);
    store(6);
    expect(cursors.cursorOf(CH)).toBe('4');
    expect(advanced).toEqual(['4']);
    expect(cursors.stuck()).toEqual([CH]);
  });

  it('does not move past a message still being stored when a later one finishes first', () => {
    const { cursors } = tracker();
    const five = cursors.begin(CH, '5');
    const six = cursors.begin(CH, '6');
    if (!five || !six) throw new Error('both are above the cursor');
    cursors.done(six, true);
    expect(cursors.cursorOf(CH)).toBeNull();
    cursors.done(five, false);
    expect(cursors.cursorOf(CH)).toBeNull();
  });

  it('moves on once a backfill from the stored cursor stores the failed message', () => {
    const { cursors, store } = tracker();
    store(4);
    store(5, false);
    store(6);
    expect(cursors.openGap(CH, '4')).toBe('4');
    store(7); // live traffic during the backfill
    expect(cursors.cursorOf(CH)).toBe('4');
    store(5);
    store(6);
    cursors.closeGap(CH);
    expect(cursors.cursorOf(CH)).toBe('7');
    expect(cursors.stuck()).toEqual([]);
  });

  it('backfills a channel with no stored cursor from just before its first failure', () => {
    const { cursors, store } = tracker();
    store(9, false);
    expect(cursors.openGap(CH, null)).toBe('8');
  });

  it('holds every cursor while a backfill reads them, and advances after the release', () => {
    const { cursors, advanced, store } = tracker();
    const release = cursors.hold();
    store(10);
    store(11);
    expect(advanced).toEqual([]);
    release();
    expect(advanced).toEqual(['11']);
  });

  it('ignores the outcome of an attempt superseded by a later feed of the same message', () => {
    const { cursors } = tracker();
    const live = cursors.begin(CH, '12');
    const again = cursors.begin(CH, '12');
    if (!live || !again) throw new Error('both are above the cursor');
    cursors.done(again, true);
    cursors.done(live, false);
    expect(cursors.cursorOf(CH)).toBe('12');
    expect(cursors.stuck()).toEqual([]);
  });
});
