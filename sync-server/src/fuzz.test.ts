/**
 * Fuzzing of every route with generated requests (fast-check): methods, paths and path
 * parameters, query strings, headers, cookies, content types and bodies (arbitrary JSON, wrong
 * types, huge and empty strings, unicode, raw bytes), from no account, a clinician, a supervisor
 * and an admin. The contract: never a 5xx, never a stack trace or internal detail in a response,
 * every 4xx a JSON `{"error": {"code", "message"}}` with a message.
 *
 * At least FUZZ_RUNS (10,000) requests per run. The seed is printed on failure (and fast-check
 * prints it with the shrunk request); replay with `FUZZ_SEED=<seed>`.
 */
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SESSION_COOKIE } from './auth/cookie';
import { silentLogger, type Logger } from './logger';
import { mutation, patient, report, syncWorld } from './sync-test-utils';
import { ORIGIN } from './test-utils';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_100);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

/**
 * Routes as [method, template, body kind]; `:x` parts are filled with a known id, a generated
 * string or a hash. Requests mostly use the route's own method and body shape (so that they get
 * past the first checks), and sometimes any method.
 */
const ROUTES: [string, string, BodyKind][] = [
  ['GET', '/api/health', 'any'],
  ['POST', '/api/auth/signup', 'auth'],
  ['POST', '/api/auth/login', 'auth'],
  ['POST', '/api/auth/logout', 'any'],
  ['GET', '/api/auth/me', 'any'],
  ['POST', '/api/auth/logout-all', 'any'],
  ['POST', '/api/auth/password', 'auth'],
  ['POST', '/api/auth/reset', 'auth'],
  ['GET', '/api/devices', 'any'],
  ['POST', '/api/devices/:record/revoke', 'any'],
  ['GET', '/api/admin/users/:user/devices', 'any'],
  ['POST', '/api/admin/devices/:record/revoke', 'any'],
  ['POST', '/api/admin/users/:user/reset-code', 'any'],
  ['GET', '/api/admin/teams', 'any'],
  ['POST', '/api/admin/teams', 'admin'],
  ['PATCH', '/api/admin/teams/:team', 'admin'],
  ['POST', '/api/admin/teams/:team/members', 'admin'],
  ['DELETE', '/api/admin/teams/:team/members/:user', 'any'],
  ['GET', '/api/admin/invitations', 'any'],
  ['POST', '/api/admin/invitations', 'admin'],
  ['DELETE', '/api/admin/invitations/:code', 'any'],
  ['GET', '/api/admin/users', 'any'],
  ['PATCH', '/api/admin/users/:user', 'admin'],
  ['GET', '/api/admin/audit', 'any'],
  ['POST', '/api/sync/push', 'push'],
  ['GET', '/api/sync/pull', 'any'],
  ['GET', '/api/sync/conflicts', 'any'],
  ['PUT', '/api/blobs/:sha', 'bytes'],
  ['GET', '/api/blobs/:sha', 'any'],
  ['GET', '/api/review/dashboard', 'any'],
  ['GET', '/api/review/queue', 'any'],
  ['GET', '/api/review/export.csv', 'any'],
  ['GET', '/api/review/export.fhir', 'any'],
  ['GET', '/api/review/teams', 'any'],
  ['GET', '/api/review/reports/:record', 'any'],
  ['POST', '/api/review/mutations', 'push'],
  ['GET', '/api/models', 'any'],
  ['GET', '/api/models/:model/:version/manifest.json', 'any'],
  ['GET', '/api/models/:model/:version/:file', 'any'],
  ['GET', '/api/admin/models', 'any'],
  ['POST', '/api/admin/models', 'bytes'],
  ['POST', '/api/admin/models/:model/:version/activate', 'any'],
  ['POST', '/api/admin/models/:model/:version/retire', 'any'],
  ['GET', '/api', 'any'],
  ['GET', '/api/nope', 'any'],
  ['GET', '/', 'any'],
  ['GET', '/index.html', 'any'],
  ['GET', '/../etc/passwd', 'any'],
];
type BodyKind = 'any' | 'auth' | 'admin' | 'push' | 'bytes';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** Strings a hostile client sends: empty, huge, unicode, control characters, injections. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\u202Eevil',
    '𝕏'.repeat(50),
    'x'.repeat(300),
    "' OR 1=1 --",
    '../../../../etc/passwd', // outside-paths: allow (a path-traversal attempt)
    '%00',
    '%ZZ',
    '__proto__',
    'constructor',
    'NaN',
    '-1',
    '1e309',
    '9007199254740993',
    '<script>alert(1)</script>',
    '{"$ne":null}',
    'a'.repeat(70_000),
  ),
);

/** JSON values, including the shapes the routes expect with wrong or odd fields. */
function bodies(ids: { team: string; user: string; device: string; sha: string }) {
  const anyJson = fc.jsonValue({ maxDepth: 4 });
  const field = fc.oneof(anyJson, nasty, fc.constantFrom(ids.team, ids.user, ids.device));
  const record = fc.dictionary(
    fc.oneof(nasty, fc.constantFrom('id', 'teamId', 'version', 'deleted', 'status', 'reportId')),
    field,
    { maxKeys: 8 },
  );
  /** A well-formed mutation of a record of the caller's team, with one field generated. */
  const validish = fc
    .record({
      table: fc.constantFrom(
        'patients',
        'encounters',
        'reports',
        'reviews',
        'attachments',
        'comments',
        'followups',
      ),
      id: fc.oneof(fc.uuid(), fc.constantFrom('fixed-1', 'fixed-2')),
      key: nasty,
      value: field,
      baseVersion: fc.nat(3),
      op: fc.constantFrom('put', 'delete'),
    })
    .map(({ table, id, key, value, baseVersion, op }) => ({
      mutationId: crypto.randomUUID(),
      table,
      id,
      baseVersion,
      op,
      data: { [key]: value, id, teamId: ids.team, version: baseVersion, deleted: false },
    }));
  const mutationLike = fc.record(
    {
      mutationId: fc.oneof(nasty, fc.uuid()),
      table: fc.oneof(
        nasty,
        fc.constantFrom('patients', 'encounters', 'diagnoses', 'reports', 'reviews', 'attachments'),
      ),
      id: fc.oneof(nasty, fc.uuid()),
      baseVersion: fc.oneof(fc.integer(), fc.double(), nasty),
      op: fc.oneof(nasty, fc.constantFrom('put', 'delete')),
      data: fc.oneof(record, anyJson),
      resolvesConflictId: fc.oneof(nasty, fc.uuid()),
    },
    { requiredKeys: [] },
  );
  const auth = fc.record(
    {
      email: fc.oneof(nasty, fc.emailAddress()),
      password: fc.oneof(nasty, fc.constant('correct horse battery staple')),
      name: nasty,
      invitationCode: nasty,
    },
    { requiredKeys: [] },
  );
  const push = fc.record(
    {
      // A new device id registers for whoever sends it; the known one is the clinician's.
      deviceId: fc.oneof(
        { weight: 3, arbitrary: fc.uuid() },
        { weight: 1, arbitrary: fc.constant(ids.device) },
        { weight: 1, arbitrary: nasty },
      ),
      mutations: fc.oneof(
        { weight: 3, arbitrary: fc.array(validish, { maxLength: 5 }) },
        { weight: 2, arbitrary: fc.array(mutationLike, { maxLength: 5 }) },
        { weight: 1, arbitrary: anyJson },
      ),
      // POST /api/review/mutations takes one.
      mutation: fc.oneof(validish, mutationLike, anyJson),
    },
    { requiredKeys: ['deviceId', 'mutations'] },
  );
  const admin = fc.record(
    {
      name: nasty,
      teamId: fc.oneof(nasty, fc.constant(ids.team)),
      userId: fc.oneof(nasty, fc.constant(ids.user)),
      role: fc.oneof(nasty, fc.constantFrom('clinician', 'supervisor', 'admin')),
      expiresInDays: fc.oneof(fc.integer(), fc.double(), nasty),
      disabled: fc.oneof(fc.boolean(), anyJson),
    },
    { requiredKeys: [] },
  );
  const all = fc.oneof(anyJson, auth, push, admin);
  const own = { any: all, auth, admin, push, bytes: all } as const;
  return (kind: BodyKind) =>
    fc.oneof({ weight: 3, arbitrary: own[kind] }, { weight: 1, arbitrary: all });
}

const BODY_ENCODINGS = ['json', 'text', 'bytes', 'none', 'truncated'] as const;

describe('fuzzing every route', () => {
  it(`answers ${RUNS} generated requests without a 5xx or a stack trace (seed ${SEED})`, async () => {
    const errors: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      error: (msg, fields) => errors.push(`${msg} ${JSON.stringify(fields)}`),
    };
    const w = await syncWorld({ logger });
    onTestFinished(w.cleanup);

    // Something in every table the routes read, so that lookups hit as well as miss.
    const p = patient(w.teamA);
    const r = report(w.teamA, p.id);
    const reportId = r.id;
    await w.alice.push([mutation('patients', p), mutation('reports', r)]);
    await w.alice.pull();
    const invite = await w.admin.post('/api/admin/invitations', {
      teamId: w.teamA,
      role: 'clinician',
    });
    const { code } = (await invite.json()) as { code: string };
    const sha = 'a'.repeat(64);
    const ids = { team: w.teamA, user: w.bob.userId, device: w.alice.deviceId, sha };

    const sessions: Record<string, string | undefined> = {
      none: undefined,
      clinician: w.alice.client.token,
      supervisor: w.sam.client.token,
      admin: w.admin.token,
      other: w.carol.client.token,
    };

    const known: Record<string, string[]> = {
      ':team': [w.teamA, w.teamB],
      ':user': [w.bob.userId, w.adminId],
      ':code': [code, code.toLowerCase(), 'AAAA-BBBB-CCCC'],
      ':sha': [sha, 'A'.repeat(64), 'zz'],
      ':record': [reportId, p.id],
      ':model': ['pneumonia-cxr', 'diabetes-risk'],
      ':version': ['1.0.0', '0.0.0'],
      ':file': ['model.onnx', 'manifest.json', '..%2F..%2Fetc%2Fpasswd'],
    };
    const pathOf = (template: string) =>
      fc
        .tuple(
          ...template.split('/').map((segment) => {
            const options = known[segment];
            return options
              ? fc.oneof(
                  { weight: 3, arbitrary: fc.constantFrom(...options) },
                  { weight: 1, arbitrary: nasty.map((s) => encodeURIComponent(s)) },
                  { weight: 1, arbitrary: nasty },
                )
              : fc.constant(segment);
          }),
        )
        .map((segments) => segments.join('/'));
    const bodyOf = bodies(ids);
    /** Method, path and body, chosen together for a route. */
    const target = fc.constantFrom(...ROUTES).chain(([method, template, kind]) =>
      fc.record({
        method: fc.oneof(
          { weight: 3, arbitrary: fc.constant(method) },
          { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
        ),
        path: pathOf(template),
        body: bodyOf(kind),
      }),
    );
    const query = fc.oneof(
      fc.constant(''),
      fc
        .dictionary(
          fc.constantFrom('cursor', 'limit', 'teamId', 'limit', 'action', 'userId', 'x'),
          fc.oneof(nasty, fc.integer().map(String), fc.constant(w.teamA)),
          { maxKeys: 3 },
        )
        .map((q) => `?${new URLSearchParams(q)}`),
      nasty.map((s) => `?${s}`),
    );
    const headers = fc.record(
      {
        origin: fc.oneof(
          { weight: 4, arbitrary: fc.constant(ORIGIN) },
          { weight: 1, arbitrary: nasty },
          { weight: 1, arbitrary: fc.constant('http://evil.example') },
        ),
        'content-type': fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json') },
          { weight: 1, arbitrary: nasty },
          fc.constantFrom(
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'image/png',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'application/merge-patch+json',
          ),
        ),
        'x-device-id': fc.oneof(fc.constant(w.alice.deviceId), fc.uuid(), nasty),
        'x-team-id': fc.oneof(fc.constant(w.teamA), nasty),
        'x-forwarded-for': nasty,
        accept: nasty,
        // A Content-Length that does not match the body; rare, as it ends most requests at once.
        'content-length': fc.oneof(
          { weight: 1, arbitrary: fc.oneof(fc.nat().map(String), nasty) },
          { weight: 9, arbitrary: fc.constant(undefined) },
        ),
      },
      // Mostly present (and right), so that requests get past the Origin and type checks.
      { requiredKeys: ['origin', 'content-type'] },
    );
    const cookie = fc.oneof(
      { weight: 4, arbitrary: fc.constant(sessions.clinician) },
      { weight: 3, arbitrary: fc.constantFrom(...Object.values(sessions)) },
      { weight: 1, arbitrary: nasty },
    );
    const request = fc.record({
      target,
      query,
      headers,
      cookie,
      encoding: fc.oneof(
        { weight: 4, arbitrary: fc.constant('json' as const) },
        { weight: 1, arbitrary: fc.constantFrom(...BODY_ENCODINGS) },
      ),
      text: nasty,
      bytes: fc.uint8Array({ maxLength: 64 }),
    });

    const invalidHeaderValue = (v: string) => /[^\t\x20-\x7e\x80-\xff]/.test(v);

    type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

    let sent = 0;
    const check = async ({ target: { method, path, body: json }, ...r }: Generated) => {
      const h: Record<string, string> = {};
      for (const [name, value] of Object.entries(r.headers)) {
        // fetch itself refuses such headers before they reach the server.
        if (typeof value === 'string' && !invalidHeaderValue(value)) h[name] = value;
      }
      // Signing out would end the sessions the other requests use.
      const logout = path.startsWith('/api/auth/logout');
      const known = Object.values(sessions).includes(r.cookie);
      if (r.cookie !== undefined && !invalidHeaderValue(r.cookie) && !(logout && known)) {
        h.cookie = `${SESSION_COOKIE}=${r.cookie}`;
      }
      const canHaveBody = method !== 'GET' && method !== 'HEAD';
      let body: BodyInit | undefined;
      if (canHaveBody) {
        if (r.encoding === 'json') body = JSON.stringify(json);
        else if (r.encoding === 'text') body = r.text;
        else if (r.encoding === 'bytes') body = r.bytes;
        else if (r.encoding === 'truncated') body = JSON.stringify(json).slice(0, -1);
      }
      if (body === undefined) delete h['content-length'];
      let url: URL;
      try {
        url = new URL(`${path}${r.query}`, 'http://localhost:8787');
      } catch {
        return; // not a request a client can send
      }
      const res = await w.app.request(url.toString(), { method, headers: h, body });
      sent += 1;
      const text = await res.text();
      const where = `${method} ${url.pathname}${url.search} -> ${res.status}: ${text.slice(0, 300)}`;
      expect(res.status, where).toBeLessThan(500);
      expect(text, where).not.toMatch(/\n\s+at |node_modules|\.ts:\d|SqliteError|SQLITE_/);
      if (res.status >= 400 && method !== 'HEAD') {
        expect(res.headers.get('content-type'), where).toMatch(/^application\/json/);
        const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        expect(typeof parsed.error?.code, where).toBe('string');
        expect(typeof parsed.error?.message, where).toBe('string');
        expect((parsed.error!.message as string).length, where).toBeGreaterThan(0);
      }
    };

    try {
      await fc.assert(fc.asyncProperty(request, check), { numRuns: RUNS, seed: SEED });
    } catch (err) {
      console.error(`fuzz: failed with FUZZ_SEED=${SEED}`);
      throw err;
    }
    expect(sent).toBeGreaterThanOrEqual(RUNS * 0.99);
    expect(errors, 'the server logged errors').toEqual([]);
  }, 300_000);
});
