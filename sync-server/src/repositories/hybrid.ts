import type { SyncRepository } from './sync.repository';

/*
 * Push and pull on PostgreSQL while the accounts (users, sessions) and the audit log are still
 * served from SQLite (issue 17: only the sync hot path has moved so far). The few calls of the
 * sync path into those tables go to `accounts`; everything else to `sync`. Those calls are reads
 * (a user's name, whether a user is disabled), binding a session to its device (idempotent) and
 * appending an audit row: outside the push's PostgreSQL transaction, so an audit row of a push
 * that then fails stays. This goes away when the other services move to repositories too.
 */
const ACCOUNT_CALLS = new Set<keyof SyncRepository>([
  'userName',
  'userDisabledAt',
  'bindSession',
  'insertAudit',
]);

export function withAccountsFrom(sync: SyncRepository, accounts: SyncRepository): SyncRepository {
  return new Proxy(sync, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return <T>(fn: (tx: SyncRepository) => Promise<T>) =>
          target.transaction((tx) => fn(withAccountsFrom(tx, accounts)));
      }
      if (ACCOUNT_CALLS.has(prop as keyof SyncRepository)) {
        const f = accounts[prop as keyof SyncRepository] as (...a: unknown[]) => unknown;
        return f.bind(accounts);
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}
