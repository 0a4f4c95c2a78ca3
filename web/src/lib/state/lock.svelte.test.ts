import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lockDelayMs } from '$lib/security/lock-delay';
import { LockState } from './lock.svelte';

const MINUTE = 60_000;

/** A page for watchIdle: the events it listens to, and whether the app is in view. */
function fakePage() {
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  vi.stubGlobal('window', win);
  vi.stubGlobal('document', doc);
  return {
    touch: () => win.dispatchEvent(new Event('pointerdown')),
    hide: () => {
      doc.visibilityState = 'hidden';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    show: () => {
      doc.visibilityState = 'visible';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
  };
}

/** An unlocked app following a profile's lock delay, whose lock() is only counted. */
function unlockedApp(me: { lockMinutes?: number } | null) {
  const state = new LockState();
  state.need = 'nothing';
  state.lockAfterMs = lockDelayMs(me);
  const locked = vi.spyOn(state, 'lock').mockImplementation(async () => {
    state.need = 'pin';
  });
  return { state, locked, stop: state.watchIdle() };
}

describe('the lock delay', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-11-26T10:00:00Z') }));
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("is the team's setting from the profile, 5 minutes without one, held to 1-60", () => {
    expect(lockDelayMs({ lockMinutes: 2 })).toBe(2 * MINUTE);
    expect(lockDelayMs({})).toBe(5 * MINUTE);
    expect(lockDelayMs(null)).toBe(5 * MINUTE);
    expect(lockDelayMs({ lockMinutes: 0 })).toBe(1 * MINUTE);
    expect(lockDelayMs({ lockMinutes: 10_000 })).toBe(60 * MINUTE);
    expect(lockDelayMs({ lockMinutes: Number.NaN })).toBe(5 * MINUTE);
  });

  it("locks after the team's minutes idle, not before", () => {
    fakePage();
    const app = unlockedApp({ lockMinutes: 2 });
    vi.advanceTimersByTime(MINUTE + 50_000);
    expect(app.locked).not.toHaveBeenCalled();
    vi.advanceTimersByTime(15_000);
    expect(app.locked).toHaveBeenCalledTimes(1);
    app.stop();
  });

  it('locks after 5 minutes when the team set nothing; a touch starts them again', () => {
    const page = fakePage();
    const app = unlockedApp({});
    vi.advanceTimersByTime(3 * MINUTE);
    page.touch();
    vi.advanceTimersByTime(4 * MINUTE);
    expect(app.locked).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MINUTE + 5_000);
    expect(app.locked).toHaveBeenCalledTimes(1);
    app.stop();
  });

  it('locks when the app comes back after being hidden longer than the delay', () => {
    const page = fakePage();
    const app = unlockedApp({ lockMinutes: 1 });
    page.hide();
    // A hidden tab's timers may not run at all: only the return to view is checked then.
    vi.setSystemTime(Date.now() + 90_000);
    expect(app.locked).not.toHaveBeenCalled();
    page.show();
    expect(app.locked).toHaveBeenCalledTimes(1);
    app.stop();
  });
});
