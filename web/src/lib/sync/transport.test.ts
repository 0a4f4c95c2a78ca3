import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '$lib/api/errors';
import { httpTransport } from './transport';

interface Sent {
  encoding: string | null;
  text: string;
}

/** A fetch that records each push (inflated) and answers with `answer(n)`. */
function recorder(answer: (n: number) => Response) {
  const sent: Sent[] = [];
  const fetchImpl = async (_input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const encoding = headers.get('content-encoding');
    const raw = new Response(init?.body as BodyInit);
    const text =
      encoding === 'gzip'
        ? await new Response(raw.body!.pipeThrough(new DecompressionStream('gzip'))).text()
        : await raw.text();
    sent.push({ encoding, text });
    return answer(sent.length);
  };
  return { sent, fetchImpl: fetchImpl as typeof fetch };
}

const ok = () => Response.json({ results: [] });
const request = { deviceId: 'device-0001', mutations: [] };

describe('httpTransport push', () => {
  it('sends the push gzip-encoded, the same JSON inside', async () => {
    const { sent, fetchImpl } = recorder(ok);
    await httpTransport('', fetchImpl).push(request);
    expect(sent).toEqual([{ encoding: 'gzip', text: JSON.stringify(request) }]);
  });

  it('sends what prepare() encoded ahead, and encodes a push it was not given', async () => {
    const { sent, fetchImpl } = recorder(ok);
    const transport = httpTransport('', fetchImpl);
    const first = { deviceId: 'device-0001', mutations: [] };
    const second = { deviceId: 'device-0002', mutations: [] };
    // The text given is what goes (the engine made it from this request: its byte count).
    transport.prepare!(first, JSON.stringify(first));
    await transport.push(first);
    await transport.push(second);
    expect(sent).toEqual([
      { encoding: 'gzip', text: JSON.stringify(first) },
      { encoding: 'gzip', text: JSON.stringify(second) },
    ]);
  });

  it('sends it plain when told not to compress', async () => {
    const { sent, fetchImpl } = recorder(ok);
    await httpTransport('', fetchImpl, { compress: false }).push(request);
    expect(sent).toEqual([{ encoding: null, text: JSON.stringify(request) }]);
  });

  it('falls back to plain pushes for a server that refuses the encoding', async () => {
    const { sent, fetchImpl } = recorder((n) =>
      n === 1
        ? Response.json(
            { error: { code: 'unsupported_media_type', message: 'no' } },
            { status: 415 },
          )
        : ok(),
    );
    const transport = httpTransport('', fetchImpl);
    await transport.push(request);
    await transport.push(request);
    expect(sent.map((s) => s.encoding)).toEqual(['gzip', null, null]);
  });

  it('falls back to plain pushes for an older server that cannot read the gzip body', async () => {
    const { sent, fetchImpl } = recorder((n) =>
      n === 1
        ? Response.json({ error: { code: 'invalid_json', message: 'no' } }, { status: 400 })
        : ok(),
    );
    const transport = httpTransport('', fetchImpl);
    await transport.push(request);
    await transport.push(request);
    expect(sent.map((s) => s.encoding)).toEqual(['gzip', null, null]);
  });

  it('sends it plain where the browser has no CompressionStream', async () => {
    vi.stubGlobal('CompressionStream', undefined);
    const { sent, fetchImpl } = recorder(ok);
    await httpTransport('', fetchImpl).push(request);
    expect(sent).toEqual([{ encoding: null, text: JSON.stringify(request) }]);
  });

  it('does not resend on other errors', async () => {
    const { sent, fetchImpl } = recorder(() =>
      Response.json({ error: { code: 'payload_too_large', message: 'big' } }, { status: 413 }),
    );
    await expect(httpTransport('', fetchImpl).push(request)).rejects.toMatchObject({ status: 413 });
    expect(sent).toHaveLength(1);
  });
});

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that records each request and answers with `answer()`. */
function calls(answer: () => Response | Promise<Response>) {
  const seen: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init?.headers)),
      body: init?.body,
    });
    return answer();
  };
  return { seen, fetchImpl: fetchImpl as typeof fetch };
}

const device = async () => ({ 'x-device-id': 'device-0001' });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('httpTransport pull and images', () => {
  it('pulls from the cursor with the limit and the acked seq (0 when none), naming the device', async () => {
    const page = { changes: [], cursor: 7, hasMore: false, reset: false };
    const { seen, fetchImpl } = calls(() => Response.json(page));
    const transport = httpTransport('https://fdx.example', fetchImpl);
    expect(await transport.pull('device-0001', 5, 100, 42)).toEqual(page);
    await transport.pull('device-0001', 0, 1000);
    expect(seen.map((c) => c.url)).toEqual([
      'https://fdx.example/api/sync/pull?cursor=5&limit=100&acked=42',
      'https://fdx.example/api/sync/pull?cursor=0&limit=1000&acked=0',
    ]);
    expect(seen[0]!.headers).toEqual({ 'x-device-id': 'device-0001' });
  });

  it("uses the browser's fetch on the app's own origin by default", async () => {
    const { seen, fetchImpl } = calls(() =>
      Response.json({ changes: [], cursor: 0, hasMore: false, reset: false }),
    );
    vi.stubGlobal('fetch', fetchImpl);
    await httpTransport().pull('device-0001', 0, 10);
    expect(seen.map((c) => c.url)).toEqual(['/api/sync/pull?cursor=0&limit=10&acked=0']);
  });

  it("uploads an image's bytes with its type, its team and the device", async () => {
    const { seen, fetchImpl } = calls(() => Response.json({ sha256: 'abc', size: 3 }));
    const transport = httpTransport('', fetchImpl, { device });
    const png = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' });
    await transport.putBlob('abc', png, 'team-1');
    await transport.putBlob('abc', new Blob([new Uint8Array([1])]), 'team-1');
    expect(seen.map(({ url, method, headers }) => ({ url, method, headers }))).toEqual([
      {
        url: '/api/blobs/abc',
        method: 'PUT',
        headers: {
          'x-device-id': 'device-0001',
          'content-type': 'image/png',
          'x-team-id': 'team-1',
        },
      },
      {
        url: '/api/blobs/abc',
        method: 'PUT',
        headers: {
          'x-device-id': 'device-0001',
          'content-type': 'application/octet-stream',
          'x-team-id': 'team-1',
        },
      },
    ]);
    expect(seen[0]!.body).toBe(png);
  });

  it("downloads an image's bytes naming the device", async () => {
    const { seen, fetchImpl } = calls(() => new Response(new Uint8Array([4, 5])));
    const blob = await httpTransport('', fetchImpl, { device }).getBlob('abc');
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(new Uint8Array([4, 5]));
    expect(seen).toMatchObject([
      { url: '/api/blobs/abc', headers: { 'x-device-id': 'device-0001' } },
    ]);
  });

  it("a download the server refuses throws the server's error", async () => {
    const { fetchImpl } = calls(() =>
      Response.json({ error: { code: 'not_found', message: 'No such image' } }, { status: 404 }),
    );
    await expect(httpTransport('', fetchImpl, { device }).getBlob('abc')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
    });
  });

  it('a download with no connection throws a network error', async () => {
    const { fetchImpl } = calls(() => {
      throw new TypeError('Failed to fetch');
    });
    const error: unknown = await httpTransport('', fetchImpl, { device })
      .getBlob('abc')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 0,
      code: 'network',
      message: 'Cannot reach the server to download the image.',
    });
  });
});
