// One contender in the limiter race (src/auth/limiter.race.test.ts): opens the shared database
// and, in each round, waits for the round's common start time, then reserves for the round's key
// (an account and an IP of its own) as fast as it can. Prints how many it got per round.
import { createAttemptLimiter } from '../src/auth/attempt-limiter';
import { gateLoginAttempt } from '../src/auth/rate-limit';
import { openDatabase } from '../src/db/connection';
import { sqliteRepositories } from '../src/repositories/sqlite';

const [file, kind, startAt, rounds, tries] = process.argv.slice(2).map(String) as [
  string,
  string,
  string,
  string,
  string,
];
const { db, close } = openDatabase(file);
const repos = sqliteRepositories(db);
const now = new Date('2026-03-01T00:00:00Z');
const signup = createAttemptLimiter(repos, 'signup', 10, 15 * 60_000);
const attempt = async (round: number) =>
  kind === 'login'
    ? 'attempt' in
      (await gateLoginAttempt(repos, `u${round}@x.org`, `203.0.113.${round}`, now, false))
    : !('retryAfter' in (await signup.reserve(`203.0.113.${round}`, now)));
/**
 * One reservation. Four processes spinning on two loaded cores can keep one of them waiting for the
 * write lock longer than the busy timeout; that is a wait, not a count: try again.
 */
async function reserve(round: number): Promise<boolean> {
  for (;;) {
    try {
      return await attempt(round);
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    }
  }
}
const reserved: number[] = [];
for (let round = 0; round < Number(rounds); round++) {
  const start = Number(startAt) + round * 250;
  while (Date.now() < start) {
    // spin: every contender starts the round in the same millisecond
  }
  let got = 0;
  for (let i = 0; i < Number(tries); i++) if (await reserve(round)) got++;
  reserved.push(got);
}
close();
console.log(JSON.stringify({ reserved }));
