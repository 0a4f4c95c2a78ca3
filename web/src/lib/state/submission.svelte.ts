import { messageOf } from '$lib/api/errors';

/**
 * A form's submission: busy while its action runs (the button is disabled), and the error to show
 * when the form's own check or the action fails. One per form.
 */
export class Submission {
  busy = $state(false);
  error = $state<string | null>(null);

  /** describe: the sentence for a failure (screens whose errors have their own translations). */
  readonly #describe: (error: unknown) => string;

  constructor(describe: (error: unknown) => string = messageOf) {
    this.#describe = describe;
  }

  /** A check before sending failed: show why, run nothing. */
  refuse(message: string) {
    this.error = message;
  }

  /** Runs the action once at a time; a failure becomes the error message. */
  async run(action: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.error = null;
    this.busy = true;
    try {
      await action();
    } catch (error) {
      this.error = this.#describe(error);
    } finally {
      this.busy = false;
    }
  }
}
