import { describe, expect, it } from 'vitest';
import { TeamName } from './admin';
import { NewPassword, PersonName, SignupRequest } from './auth';

const message = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  r.success ? null : r.error!.issues[0]!.message;

describe('password policy (adversarial test, hole 9)', () => {
  it.each([
    ['aaaaaaaaaa', /different characters/],
    ['          ', /different characters|only spaces/],
    ['\t\t\t\t\t\t\t\t\t\t', /control|different|only spaces/],
    ['abcdefghi\u0000j', /control characters/],
    ['abc\u0007defghij', /control characters/],
    ['abababababab', /different characters/],
  ])('refuses %j', (password, reason) => {
    expect(message(NewPassword.safeParse(password))).toMatch(reason);
  });

  it('accepts an ordinary passphrase, spaces and accents included', () => {
    expect(NewPassword.safeParse('correct horse battery staple').success).toBe(true);
    expect(NewPassword.safeParse('Ségou clinique 2026').success).toBe(true);
  });

  it("refuses the user's own email, in any case, alone or inside the password", () => {
    const base = { name: 'Ada', email: 'Ada.Lovelace@example.org' };
    for (const password of [
      'ada.lovelace@example.org',
      'ADA.LOVELACE@EXAMPLE.ORG',
      'ada.lovelace@example.org!!',
      'ada.lovelace',
    ]) {
      const r = SignupRequest.safeParse({ ...base, password });
      expect(r.success, password).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(['password']);
      expect(r.error!.issues[0]!.message).toMatch(/email/);
    }
    expect(
      SignupRequest.safeParse({ ...base, password: 'correct horse battery staple' }).success,
    ).toBe(true);
  });
});

describe('names (adversarial test, hole 9)', () => {
  it.each([
    ['Ada\u0000'],
    ['Ada\u202Eecila'], // right-to-left override
    ['Ada\u2066x\u2069'], // isolates
    ['A\u200Bda'], // zero-width space
    ['A\u200Dda'], // zero-width joiner
    ['A\uFEFFda'], // byte order mark
    ['Ada\nLovelace'],
  ])('refuses %j as a person or team name', (name) => {
    expect(message(PersonName.safeParse(name))).toMatch(/invisible|control|direction/);
    expect(message(TeamName.safeParse(name))).toMatch(/invisible|control|direction/);
  });

  it('accepts names in any script', () => {
    for (const name of [
      'Amina Okafor',
      'Nguyễn Văn An',
      'عائشة',
      'Zoë O’Brien-Smith',
      '山田 太郎',
    ]) {
      expect(PersonName.safeParse(name).success, name).toBe(true);
      expect(TeamName.safeParse(name).success, name).toBe(true);
    }
  });
});
