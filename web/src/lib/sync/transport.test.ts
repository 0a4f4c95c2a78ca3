import { describe, expect, it } from 'vitest';
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

  it('does not resend on other errors', async () => {
    const { sent, fetchImpl } = recorder(() =>
      Response.json({ error: { code: 'payload_too_large', message: 'big' } }, { status: 413 }),
    );
    await expect(httpTransport('', fetchImpl).push(request)).rejects.toMatchObject({ status: 413 });
    expect(sent).toHaveLength(1);
  });
});
