import { describe, expect, it } from 'vitest';
import { isPublicPath, navigationFor } from './navigation';

describe('navigationFor', () => {
  it('shows nothing to a signed-out visitor', () => {
    expect(navigationFor(null)).toEqual([]);
  });

  it('gives clinicians patients and models, and no admin pages', () => {
    const hrefs = navigationFor({ isAdmin: false, memberships: [{ role: 'clinician' }] }).map(
      (l) => l.href,
    );
    expect(hrefs).toEqual(['/', '/patients', '/diagnose', '/follow-ups', '/settings']);
  });

  it('gives supervisors the review queue and dashboard, not patient records or admin pages', () => {
    const hrefs = navigationFor({ isAdmin: false, memberships: [{ role: 'supervisor' }] }).map(
      (l) => l.href,
    );
    expect(hrefs).toEqual(['/', '/review', '/dashboard', '/settings']);
  });

  it('gives a clinician who supervises another team both menus', () => {
    const hrefs = navigationFor({
      isAdmin: false,
      memberships: [{ role: 'clinician' }, { role: 'supervisor' }],
    }).map((l) => l.href);
    expect(hrefs).toEqual([
      '/',
      '/patients',
      '/diagnose',
      '/follow-ups',
      '/review',
      '/dashboard',
      '/settings',
    ]);
  });

  it('gives admins the admin pages, and clinical pages only with a clinical role', () => {
    const hrefs = navigationFor({ isAdmin: true, memberships: [] }).map((l) => l.href);
    expect(hrefs).toEqual([
      '/',
      '/review',
      '/dashboard',
      '/admin/teams',
      '/admin/invitations',
      '/admin/users',
      '/admin/models',
      '/admin/audit',
      '/settings',
    ]);
    const both = navigationFor({ isAdmin: true, memberships: [{ role: 'clinician' }] }).map(
      (l) => l.href,
    );
    expect(both).toContain('/patients');
  });
});

describe('isPublicPath', () => {
  it('lets anyone reach sign-in, sign-up and the password reset only', () => {
    expect(isPublicPath('/signin')).toBe(true);
    expect(isPublicPath('/signup/')).toBe(true);
    expect(isPublicPath('/reset-password')).toBe(true);
    expect(isPublicPath('/')).toBe(false);
    expect(isPublicPath('/admin/teams')).toBe(false);
  });
});
