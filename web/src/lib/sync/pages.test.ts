import type { PullResponse } from 'sync-server/protocol';
import { describe, expect, it } from 'vitest';
import { PullPages } from './pages';

/** A server with `total` pages after cursor 0; page n has cursor n. */
function server(total: number, options: { failAt?: number; resetAt?: number } = {}) {
  const requested: number[] = [];
  let waiting: (() => void)[] = [];
  const fetchPage = async (cursor: number): Promise<PullResponse> => {
    requested.push(cursor);
    await new Promise<void>((resolve) => waiting.push(resolve));
    const n = cursor + 1;
    if (n === options.failAt) throw new Error(`page ${n} failed`);
    if (n === options.resetAt) return { changes: [], cursor: 0, hasMore: true, reset: true };
    return { changes: [], cursor: n, hasMore: n < total, reset: false };
  };
  /** Answers every request on the wire, and lets the queue react. */
  const answer = async () => {
    const now = waiting;
    waiting = [];
    now.forEach((resolve) => resolve());
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { fetchPage, requested, answer };
}

describe('PullPages', () => {
  it('downloads one page at a time, in order, at most `ahead` pages before the caller', async () => {
    const s = server(10);
    const pages = new PullPages(s.fetchPage, 0, 3);
    for (let i = 0; i < 6; i++) await s.answer();
    // Three pages wait; the fourth is not asked for until the caller takes them.
    expect(s.requested).toEqual([0, 1, 2]);
    expect((await pages.take()).map((p) => p.cursor)).toEqual([1, 2, 3]);
    expect(s.requested).toEqual([0, 1, 2, 3]);
    const rest: number[] = [];
    for (;;) {
      const next = pages.take();
      await s.answer();
      await s.answer();
      await s.answer();
      const batch = await next;
      if (batch.length === 0) break;
      rest.push(...batch.map((p) => p.cursor));
    }
    expect(rest).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });

  it('hands over the pages before a failure, then throws it', async () => {
    const s = server(10, { failAt: 3 });
    const pages = new PullPages(s.fetchPage, 0, 5);
    for (let i = 0; i < 4; i++) await s.answer();
    expect((await pages.take()).map((p) => p.cursor)).toEqual([1, 2]);
    await expect(pages.take()).rejects.toThrow('page 3 failed');
    expect(s.requested).toEqual([0, 1, 2]);
  });

  it('stops after a reset page and after stop()', async () => {
    const s = server(10, { resetAt: 2 });
    const pages = new PullPages(s.fetchPage, 0, 5);
    for (let i = 0; i < 4; i++) await s.answer();
    const batch = await pages.take();
    expect(batch.map((p) => p.reset)).toEqual([false, true]);
    expect(await pages.take()).toEqual([]);
    expect(s.requested).toEqual([0, 1]);

    const t = server(10);
    const stopped = new PullPages(t.fetchPage, 0, 5);
    await t.answer();
    stopped.stop();
    await t.answer();
    expect(t.requested).toEqual([0, 1]);
  });
});
