import { m } from '$lib/paraglide/messages';
import { messageOf } from '$lib/api/errors';

/** `partial`: the valid fields are in the record, the marked ones only in the draft. */
export type SaveStatus = 'saved' | 'saving' | 'draft' | 'partial' | 'error';

/** What a form's save status says to the user. */
export function saveStatusText(status: SaveStatus): string {
  switch (status) {
    case 'saved':
      return m.save_saved();
    case 'saving':
      return m.save_saving();
    case 'draft':
      return m.save_draft();
    case 'partial':
      return m.save_partial();
    case 'error':
      return m.save_error();
  }
}

/**
 * Saves a form as the user types: a short pause after the last keystroke, one write at a time,
 * the latest text always winning, and a last save when the page is hidden or closed.
 */
export class Autosave {
  status = $state<SaveStatus>('saved');
  error = $state<string | null>(null);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();

  /** `save` writes the current form and says whether it went to the record or stayed a draft. */
  constructor(
    private readonly save: () => Promise<'saved' | 'draft' | 'partial'>,
    private readonly delayMs = 300,
  ) {}

  schedule() {
    this.status = 'saving';
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.flush(), this.delayMs);
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#chain = this.#chain.then(async () => {
      try {
        this.status = await this.save();
        this.error = null;
      } catch (error) {
        this.status = 'error';
        this.error = messageOf(error);
      }
    });
    return this.#chain;
  }

  /** Saves when the tab is hidden or closed; returns the clean-up (for onMount). */
  saveOnLeave(): () => void {
    const onHide = () => {
      if (document.visibilityState === 'hidden') void this.flush();
    };
    document.addEventListener('visibilitychange', onHide);
    window.addEventListener('pagehide', onHide);
    return () => {
      document.removeEventListener('visibilitychange', onHide);
      window.removeEventListener('pagehide', onHide);
      void this.flush();
    };
  }
}
