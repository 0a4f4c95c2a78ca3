/**
 * The wire protocol of the sync server: zod schemas of every request and response body, with their
 * TypeScript types. Imported by the web app as `sync-server/protocol`, so this folder imports
 * nothing but zod.
 */
export * from './common';
export * from './auth';
export * from './admin';
export * from './accounts';
export * from './audit';
export * from './sync';
export * from './manifest';
export * from './models';
export * from './review';
export { COMMON_PASSWORDS, isCommonPassword } from './common-passwords';
export {
  INVITATION_ALPHABET,
  INVITATION_CODE_LENGTH,
  normalizeInvitationCode,
} from './invitation-code';
