/**
 * Invitation codes: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as
 * XXXX-XXXX-XXXX. Input is accepted in any case, with or without dashes or spaces.
 */
export const INVITATION_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const INVITATION_CODE_LENGTH = 12;

/** Canonical display form, or the upper-cased input unchanged when it cannot be a code. */
export function normalizeInvitationCode(input: string): string {
  const compact = input.replace(/[\s-]/g, '').toUpperCase();
  if (compact.length !== INVITATION_CODE_LENGTH) return compact;
  return `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8, 12)}`;
}
