/** What the services need from users, sessions and password reset codes. */
export interface AccountsRepository {
  /** Whether the user is an administrator (false when there is no such user). */
  isAdmin(userId: string): Promise<boolean>;
}
