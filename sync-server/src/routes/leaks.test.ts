import { createHash } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Logger, LogFields } from '../logger';
import type { MutationResult } from '../protocol';
import { blobRequest, mutation, patient, syncWorld } from '../sync-test-utils';
import { errorOf } from '../test-utils';

/** A logger that keeps every line. */
function keepingLogger() {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const keep = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push({ level, msg, fields });
  };
  const logger: Logger = {
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
  return { lines, logger };
}

async function setup(options: Parameters<typeof syncWorld>[0] = {}) {
  const w = await syncWorld(options);
  onTestFinished(w.cleanup);
  return w;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('small leaks (adversarial test, hole 9)', () => {
  it("a blob upload never answers with another team's mime type", async () => {
    const w = await setup();
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const sha = sha256(bytes);
    const put = (client: typeof w.alice.client, team: string, type: string) =>
      blobRequest(w.app, client, 'PUT', `/api/blobs/${sha}?teamId=${team}`, bytes, {
        'content-type': type,
      });
    expect((await put(w.alice.client, w.teamA, 'image/webp')).status).toBe(201);
    // Carol (team B) uploads the same bytes labelled otherwise: she learns nothing of team A's.
    const res = await put(w.carol.client, w.teamB, 'image/png');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ mime: 'image/png', created: true });
  });

  it('invalid_cursor does not reveal the global change count', async () => {
    const w = await setup();
    // Team B writes a lot; alice (team A) holds one record.
    await w.carol.push(Array.from({ length: 20 }, () => mutation('patients', patient(w.teamB))));
    await w.alice.pushOne(mutation('patients', patient(w.teamA)));
    const page = await w.alice.pull(0);
    const mine = page.cursor;
    // Every cursor past alice's own records is refused alike, whatever team B wrote.
    for (const cursor of [mine + 1, 15, 21, 22, 1000]) {
      if (cursor <= mine) continue;
      const res = await w.alice.pullRaw(cursor);
      expect(res.status, String(cursor)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('invalid_cursor');
      // No number but the caller's own cursor (and "pull again from 0").
      expect(error.message.replace(String(cursor), '')).not.toMatch(/[1-9]/);
    }
    expect((await w.alice.pullRaw(mine)).status).toBe(200);
  });

  it('a record of another team is refused as any write outside the caller’s teams', async () => {
    const w = await setup();
    const theirs = patient(w.teamB);
    await w.carol.pushOne(mutation('patients', theirs));
    // Alice uses the id she learnt for a record of her own team.
    const reused = (await w.alice.pushOne(
      mutation('patients', { ...theirs, teamId: w.teamA }),
    )) as Extract<MutationResult, { status: 'rejected' }>;
    // And writes into team B directly.
    const direct = (await w.alice.pushOne(mutation('patients', patient(w.teamB)))) as Extract<
      MutationResult,
      { status: 'rejected' }
    >;
    expect(reused.status).toBe('rejected');
    expect({ code: reused.code, reason: reused.reason }).toEqual({
      code: direct.code,
      reason: direct.reason,
    });
    expect(reused.reason).not.toMatch(/another team|exists|belongs/);
  });

  it('invitation codes are not written whole into the request log', async () => {
    const { lines, logger } = keepingLogger();
    const w = await setup({ logger });
    const r = await w.admin.post('/api/admin/invitations', { teamId: w.teamA, role: 'clinician' });
    const { code } = (await r.json()) as { code: string };
    expect((await w.admin.delete(`/api/admin/invitations/${code}`)).status).toBe(200);
    expect(
      (await w.admin.delete(`/api/admin/invitations/${code.replaceAll('-', '').toLowerCase()}`))
        .status,
    ).toBe(200);
    const text = JSON.stringify(lines);
    expect(text).toContain('/api/admin/invitations/');
    expect(text).not.toContain(code);
    expect(text).not.toContain(code.replaceAll('-', '').toLowerCase());
    expect(text).not.toContain(code.slice(5));
  });
});
