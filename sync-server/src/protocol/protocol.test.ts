import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateInvitationCode } from '../services/invitations';
import {
  Email,
  INVITATION_ALPHABET,
  InvitationCodeInput,
  normalizeInvitationCode,
  SignupRequest,
} from './index';

describe('protocol', () => {
  it('imports nothing but zod (the web app bundles it)', () => {
    const dir = new URL('.', import.meta.url);
    for (const file of readdirSync(dir).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    )) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const spec of imports) {
        expect(spec === 'zod' || spec!.startsWith('./'), `${file} imports ${spec}`).toBe(true);
      }
    }
  });

  it('normalises emails', () => {
    expect(Email.parse('  Ada@Example.ORG ')).toBe('ada@example.org');
    expect(Email.safeParse('ada@').success).toBe(false);
  });

  it('normalises invitation codes: any case, with or without dashes', () => {
    expect(normalizeInvitationCode('abcd-efgh-jkmn')).toBe('ABCD-EFGH-JKMN');
    expect(normalizeInvitationCode('abcdefghjkmn')).toBe('ABCD-EFGH-JKMN');
    expect(normalizeInvitationCode(' ABCD EFGH JKMN ')).toBe('ABCD-EFGH-JKMN');
    expect(InvitationCodeInput.parse('abcd-efghjkmn')).toBe('ABCD-EFGH-JKMN');
    expect(normalizeInvitationCode('short')).toBe('SHORT');
    const parsed = SignupRequest.parse({
      email: 'a@b.org',
      password: 'tall ladder in the rain',
      name: 'A',
      invitationCode: 'abcdefghjkmn',
    });
    expect(parsed.invitationCode).toBe('ABCD-EFGH-JKMN');
  });

  it('generates codes from the unambiguous alphabet, spread over all of it', () => {
    expect(INVITATION_ALPHABET).not.toMatch(/[01ILO]/);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const code = generateInvitationCode();
      expect(code).toMatch(/^[^-]{4}-[^-]{4}-[^-]{4}$/);
      for (const ch of code.replace(/-/g, '')) {
        expect(INVITATION_ALPHABET).toContain(ch);
        seen.add(ch);
      }
    }
    expect(seen.size).toBe(INVITATION_ALPHABET.length);
  });
});
