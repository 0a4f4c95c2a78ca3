import { getLocale } from '$lib/paraglide/runtime';
import { m } from '$lib/paraglide/messages';
/**
 * Messages a person reads, from the wording of validation: the server and the zod schemas name a
 * field by its wire key ("expiresInDays: must be a number"); a person reads the field's label in a
 * sentence ("Valid for (days) must be a number." reads badly, so labels are nouns people use).
 */
const LABELS: Record<string, string | (() => string)> = {
  email: m.label_email_address,
  password: m.label_password,
  name: m.label_your_name,
  invitationCode: m.label_invitation_code,
  expiresInDays: 'The number of days the invitation is valid',
  teamId: 'The team',
  role: 'The role',
  userId: 'The user',
  disabled: 'The account status',
  limit: 'The number of entries',
  newPassword: 'The new password',
  currentPassword: 'The current password',
  code: 'The reset code',
};

/** "expiresInDays" → "Expires in days" for a key without a label. */
function fromKey(key: string): string {
  const spaced = key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** The label people know a wire field by ("items.0.email" → "The email address"). */
export function fieldLabel(path: string): string {
  const key =
    path
      .split('.')
      .filter((part) => !/^\d+$/.test(part))
      .pop() ?? path;
  const label = LABELS[key];
  return typeof label === 'function' ? label() : (label ?? fromKey(key));
}

/** Capital first letter, full stop at the end. */
export function asSentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * One problem with one field as a sentence: "must be a valid email address" about "Email" reads
 * "Email must be a valid email address."; a message that is already a sentence of its own
 * ("please give a date of birth …") is kept, capitalised, without the label.
 */
export function issueSentence(label: string, message: string): string {
  // Other languages: the app's own validation words are a short predicate ("obligatoire") shown
  // after the field's name, or a sentence of their own (capital first letter).
  if (getLocale() !== 'en') {
    const text = message.trim();
    return asSentence(/^\p{Lu}/u.test(text) ? text : m.field_issue({ field: label, issue: text }));
  }
  const predicate = /^(must|is|are|may|should|cannot|can't|has|was)\b/i.test(message.trim());
  return asSentence(predicate ? `${label} ${message.trim()}` : message);
}

/** A server message, with a leading wire field name ("email: …") turned into its label. */
export function humanMessage(message: string): string {
  const match = /^([A-Za-z][\w]*(?:\.[\w]+)*): (.+)$/s.exec(message.trim());
  if (!match) return asSentence(message);
  return issueSentence(fieldLabel(match[1]!), match[2]!);
}
