import { describe, expect, it } from 'vitest';
import { Submission } from './submission.svelte';

describe('Submission', () => {
  it('is busy while the action runs, and clears the last error', async () => {
    const form = new Submission();
    form.refuse('Give the team a name.');
    let release = () => {};
    const running = form.run(() => new Promise<void>((resolve) => (release = resolve)));
    expect(form.busy).toBe(true);
    expect(form.error).toBeNull();
    release();
    await running;
    expect(form.busy).toBe(false);
    expect(form.error).toBeNull();
  });

  it('turns a failure into its message, and ignores a second submit while busy', async () => {
    const form = new Submission();
    let calls = 0;
    const first = form.run(async () => {
      calls++;
      throw new Error('Wrong email or password');
    });
    await form.run(async () => void calls++);
    await first;
    expect(calls).toBe(1);
    expect(form.error).toBe('Wrong email or password');
    expect(form.busy).toBe(false);
  });
});
