/**
 * Why the user was sent to the sign-in page, when it was not their choice. Kept apart from the
 * session (lib/state/session.svelte.ts, which brings the API client, Dexie and the key ring) so
 * that the sign-in page can show it before any of those is loaded.
 */
export const signInNotice = $state<{ text: string | null }>({ text: null });
