import { describe, expect, it } from 'vitest';
import { asSentence, fieldLabel, humanMessage, issueSentence } from './human';

describe('messages a person reads', () => {
  it('names fields as people do', () => {
    expect(fieldLabel('email')).toBe('The email address');
    expect(fieldLabel('mutations.0.baseVersion')).toBe('Base version');
  });

  it('turns a server field error into a sentence', () => {
    expect(humanMessage('email: must be a valid email address')).toBe(
      'The email address must be a valid email address.',
    );
    expect(humanMessage('expiresInDays: must be a number')).toBe(
      'The number of days the invitation is valid must be a number.',
    );
    expect(humanMessage('password: is required')).toBe('The password is required.');
  });

  it('keeps sentences and plain messages as they are, finished', () => {
    expect(humanMessage('Cannot reach the server. Check the connection and try again.')).toBe(
      'Cannot reach the server. Check the connection and try again.',
    );
    expect(humanMessage('invalid request')).toBe('Invalid request.');
    expect(asSentence('')).toBe('');
  });

  it('puts a field label before a predicate only', () => {
    expect(issueSentence('Family name', 'is required')).toBe('Family name is required.');
    expect(issueSentence('Date of birth', 'please give a date of birth or an estimated age')).toBe(
      'Please give a date of birth or an estimated age.',
    );
  });
});
