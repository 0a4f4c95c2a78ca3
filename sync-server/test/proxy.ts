import { request as httpRequest, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small loopback reverse proxy that spreads requests over several server instances in turn,
 * as nginx or a cloud load balancer would in front of a FieldDx installation. Like nginx's
 * default `proxy_next_upstream error`, a request that could not reach an instance (connection
 * refused: nothing was sent) goes to the next one; a request cut off after it was sent is answered
 * 502 and never replayed, since only the device knows whether to retry it (with the same mutation
 * ids, which the server answers idempotently).
 */

export interface ForwardEvent {
  /** Index of the upstream the request was sent to. */
  upstream: number;
  method: string;
  url: string;
  /** Size of the request body. */
  bytes: number;
}

export interface LoopbackProxy {
  origin: string;
  /** Answers each upstream gave, by index. */
  served: number[];
  /** Called as a request is sent to an upstream (tests use it to kill that instance then). */
  onForward: ((event: ForwardEvent) => void) | null;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * `upstreams` is read at each request, so instances can be added after the proxy started (they
 * need its address as their PUBLIC_ORIGIN).
 */
export async function startProxy(
  upstreams: readonly string[],
  { port = 0, host = '127.0.0.1' } = {},
): Promise<LoopbackProxy> {
  let next = 0;
  const proxy: LoopbackProxy = {
    origin: '',
    served: [],
    onForward: null,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections (a browser's) would hold close() open for good.
        server.closeAllConnections();
      }),
  };

  const server = createServer(async (req, res) => {
    // Buffered so that a refused connection can be sent to the next instance (bodies are ≤ 5 MiB).
    const body = await readBody(req).catch(() => null);
    if (!body) return res.destroy();
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)),
    );
    const client = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for']
      ? `${req.headers['x-forwarded-for']}, ${client}`
      : client;
    headers['content-length'] = String(body.length);

    const attempt = (tried: number) => {
      if (upstreams.length === 0) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'starting', message: 'no instance yet' } }));
        return;
      }
      const index = next++ % upstreams.length;
      const target = new URL(req.url ?? '/', upstreams[index]);
      const upstreamReq = httpRequest(
        target,
        // Its own connection each time: a killed instance leaves no pooled socket to fail on.
        { method: req.method, headers, agent: false },
        (upstreamRes) => {
          proxy.served[index] = (proxy.served[index] ?? 0) + 1;
          const out = Object.fromEntries(
            Object.entries(upstreamRes.headers).filter(([k]) => !HOP_BY_HOP.has(k)),
          );
          res.writeHead(upstreamRes.statusCode ?? 502, out);
          upstreamRes.pipe(res);
          // Killed mid-answer: the client sees a cut connection, as through a real proxy.
          upstreamRes.on('error', () => res.destroy());
          upstreamRes.on('aborted', () => res.destroy());
        },
      );
      upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED' && tried + 1 < upstreams.length) return attempt(tried + 1);
        if (res.headersSent) return res.destroy();
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'bad_gateway', message: 'upstream failed' } }));
      });
      proxy.onForward?.({
        upstream: index,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        bytes: body.length,
      });
      upstreamReq.end(body);
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  proxy.origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return proxy;
}
