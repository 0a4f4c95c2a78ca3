import type { PullResponse } from 'sync-server/protocol';

/**
 * Pull pages downloaded one after another in the background while the device stores earlier
 * ones, so that the network and IndexedDB work at the same time. At most `ahead` pages wait in
 * memory. Each request needs the cursor of the page before it, so there is one request at a time.
 */
export class PullPages {
  private readonly ready: PullResponse[] = [];
  private cursor: number;
  private fetching = false;
  private finished = false;
  private stopped = false;
  private failure: { error: unknown } | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly fetchPage: (cursor: number) => Promise<PullResponse>,
    cursor: number,
    private readonly ahead: number,
  ) {
    this.cursor = cursor;
    this.fetchNext();
  }

  /**
   * Every page downloaded so far, in order (waits for one); none once the last page was taken.
   * A failed download throws here, after the pages that came before it were taken.
   */
  async take(): Promise<PullResponse[]> {
    while (this.ready.length === 0 && !this.failure && !(this.finished && !this.fetching)) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.ready.length > 0) {
      const pages = this.ready.splice(0);
      this.fetchNext();
      return pages;
    }
    if (this.failure) throw this.failure.error;
    return [];
  }

  /** No more downloads (the caller gave up); a request on the wire is left to finish. */
  stop() {
    this.stopped = true;
  }

  private fetchNext() {
    if (this.fetching || this.finished || this.stopped || this.failure) return;
    if (this.ready.length >= this.ahead) return;
    this.fetching = true;
    this.fetchPage(this.cursor).then(
      (page) => {
        this.fetching = false;
        this.ready.push(page);
        // After a reset the caller starts again from 0, with a new queue.
        if (!page.hasMore || page.reset) this.finished = true;
        else this.cursor = page.cursor;
        this.fetchNext();
        this.notify();
      },
      (error: unknown) => {
        this.fetching = false;
        this.failure = { error };
        this.notify();
      },
    );
  }

  private notify() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
