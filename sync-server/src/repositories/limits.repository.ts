/** What the services need from the sign-in and attempt limiters (login_attempts, limiter_attempts). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in as its services move (issue 17)
export interface LimitsRepository {}
