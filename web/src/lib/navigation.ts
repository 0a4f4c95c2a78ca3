export interface NavLink {
  href: string;
  label: string;
  /** The menu shows a count beside this link (returned reports + open follow-ups). */
  counted?: boolean;
}

interface NavUser {
  isAdmin: boolean;
  memberships: { role: string }[];
}

/** The links a user's roles give them: each role sees only what it needs. */
export function navigationFor(me: NavUser | null): NavLink[] {
  if (!me) return [];
  const links: NavLink[] = [{ href: '/', label: 'Home' }];
  if (me.memberships.some((m) => m.role === 'clinician')) {
    links.push(
      { href: '/patients', label: 'Patients' },
      { href: '/diagnose', label: 'Diagnose' },
      { href: '/follow-ups', label: 'Follow-ups', counted: true },
    );
  }
  // An admin may act as supervisor of any team.
  if (me.isAdmin || me.memberships.some((m) => m.role === 'supervisor')) {
    links.push({ href: '/review', label: 'Review' }, { href: '/dashboard', label: 'Dashboard' });
  }
  if (me.isAdmin) {
    links.push(
      { href: '/admin/teams', label: 'Teams' },
      { href: '/admin/invitations', label: 'Invitations' },
      { href: '/admin/users', label: 'Users' },
      { href: '/admin/models', label: 'Models' },
      { href: '/admin/audit', label: 'Audit log' },
    );
  }
  links.push({ href: '/settings', label: 'Settings' });
  return links;
}

const PUBLIC_PATHS = new Set(['/signin', '/signup', '/reset-password']);

/** Pages anyone may open; every other page needs a signed-in user. */
export function isPublicPath(pathname: string): boolean {
  return PUBLIC_PATHS.has(pathname.replace(/\/$/, '') || '/');
}
