import { describe, expect, it } from 'vitest';
import { isPublicPath, navigationFor } from './navigation';

describe('navigationFor', () => {
  it('shows nothing to a signed-out visitor', () => {
    expect(navigationFor(null)).toEqual([]);
  });

  it('keeps admin pages from clinicians and supervisors', () => {
    for (const role of ['clinician', 'supervisor']) {
      const hrefs = navigationFor({ isAdmin: false, memberships: [{ role }] }).map((l) => l.href);
      expect(hrefs).toEqual(['/']);
    }
  });

  it('gives admins the admin pages', () => {
    const hrefs = navigationFor({ isAdmin: true, memberships: [] }).map((l) => l.href);
    expect(hrefs).toEqual(['/', '/admin/teams', '/admin/invitations', '/admin/users']);
  });
});

describe('isPublicPath', () => {
  it('lets anyone reach sign-in and sign-up only', () => {
    expect(isPublicPath('/signin')).toBe(true);
    expect(isPublicPath('/signup/')).toBe(true);
    expect(isPublicPath('/')).toBe(false);
    expect(isPublicPath('/admin/teams')).toBe(false);
  });
});
