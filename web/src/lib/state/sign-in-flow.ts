/**
 * What the sign-in page's buttons do, loaded by the page after its first paint: the session, the
 * key ring, Dexie and the request schemas (zod) are not needed to show the form.
 */
import { firstIssue, LoginRequest } from '$lib/api/client';
import { getDatabase } from '$lib/db/database';
import { PasswordChangedError } from '$lib/db/keyring';
import { lock } from '$lib/state/lock.svelte';
import { session } from '$lib/state/session.svelte';

export { lockMessageOf } from '$lib/i18n/lock-errors';

export type SignInOutcome =
  /** The form's own check failed: the sentence to show. */
  | { refused: string }
  /** The password changed elsewhere and no PIN can open the tablet's data: edits never backed up. */
  | { unopenable: { waiting: number } }
  /** Signed in (the PIN screen or the app follows). */
  | { signedIn: true };

/**
 * Signs in (or, startOver, erases the tablet's data and starts again from the server) with the
 * typed email and password. pinForgotten: the PIN that should open the data once more is
 * forgotten too, so a changed password cannot open it.
 */
export async function signIn(
  typed: { email: string; password: string },
  options: { pinForgotten: boolean; startOver: boolean },
): Promise<SignInOutcome> {
  const parsed = LoginRequest.safeParse(typed);
  if (!parsed.success) return { refused: firstIssue(parsed.error) };
  const { email, password } = parsed.data;
  try {
    await (options.startOver
      ? session.startOver(email, password)
      : session.signIn(email, password));
    if (options.pinForgotten && lock.passwordChanged) throw new PasswordChangedError(false);
  } catch (error) {
    if (!(error instanceof PasswordChangedError)) throw error;
    return { unopenable: { waiting: await getDatabase().outbox.count() } };
  }
  // The password opened the data key: the PIN screen (or the app) follows, not a lock.
  if (session.me) await lock.check(session.me.user.id);
  return { signedIn: true };
}
