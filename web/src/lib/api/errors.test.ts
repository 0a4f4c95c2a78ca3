import { describe, expect, it } from 'vitest';
import { ApiError, NETWORK_ERROR_MESSAGE, messageOf, readResponse } from './errors';

const json = (status: number, body: unknown) =>
  Promise.resolve(
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }),
  );

describe('readResponse', () => {
  it('returns the body of a success', async () => {
    expect(await readResponse(json(200, { status: 'ok' }))).toEqual({ status: 'ok' });
  });

  it('returns undefined for 204', async () => {
    expect(
      await readResponse(Promise.resolve(new Response(null, { status: 204 }))),
    ).toBeUndefined();
  });

  it("throws the server's code and message", async () => {
    const error = await readResponse(
      json(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password.' } }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_credentials' });
    expect(messageOf(error)).toBe('Wrong email or password.');
  });

  it('copes with a non-JSON error body', async () => {
    const error = await readResponse(
      Promise.resolve(new Response('<html>', { status: 502 })),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'http_502' });
  });

  it('reports a network failure as such', async () => {
    const error = await readResponse(Promise.reject(new TypeError('Failed to fetch'))).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ status: 0, isNetwork: true, message: NETWORK_ERROR_MESSAGE });
  });
});
