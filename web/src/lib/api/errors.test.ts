import { describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  NETWORK_ERROR_MESSAGE,
  messageOf,
  readResponse,
  setRevocationHandler,
} from './errors';

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

describe('a device_revoked answer', () => {
  it('starts the wipe once, as soon as the headers arrive when the browser is clearing', async () => {
    const wipe = vi.fn();
    const previous = setRevocationHandler(wipe);
    try {
      const body = JSON.stringify({ error: { code: 'device_revoked', message: 'Revoked' } });
      const cleared = new Response(body, {
        status: 403,
        headers: { 'clear-site-data': '"storage"', 'content-type': 'application/json' },
      });
      await expect(readResponse(Promise.resolve(cleared))).rejects.toMatchObject({
        code: 'device_revoked',
      });
      expect(wipe).toHaveBeenCalledTimes(1);
      await expect(
        readResponse(Promise.resolve(new Response(body, { status: 403 }))),
      ).rejects.toThrow('Revoked');
      expect(wipe).toHaveBeenCalledTimes(2);
      // Any other refusal wipes nothing.
      await expect(
        readResponse(json(403, { error: { code: 'forbidden', message: 'No' } })),
      ).rejects.toThrow();
      expect(wipe).toHaveBeenCalledTimes(2);
    } finally {
      setRevocationHandler(previous);
    }
  });
});
