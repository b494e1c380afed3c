// A raw node:net HTTP server for framings and connection habits node:http will not produce; it counts what it sees.

import { createServer, type Server, type Socket } from 'node:net';

/** One request as it arrived: its connection (1-based), its place on that connection (1-based), method and target. */
export interface RawRequest {
  conn: number;
  nth: number;
  method: string;
  target: string;
}

/** What the server does with a request: write to the socket, end it, or destroy it. */
export type RawHandler = (req: RawRequest, socket: Socket) => void;

export interface RawServer {
  url: string;
  /** Every request head that arrived, in order. */
  requests: RawRequest[];
  /** Connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

/** Start on 127.0.0.1, port 0. Request bodies are not expected (the tests send none, or a short one read with the head). */
export async function startRaw(handle: RawHandler): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  let conns = 0;
  const server: Server = createServer((socket) => {
    const conn = ++conns;
    let nth = 0;
    let buffered = '';
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buffered += d;
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        buffered = buffered.slice(length);
        const [method = '', target = ''] = head.split(' ', 2);
        const req = { conn, nth: ++nth, method, target };
        requests.push(req);
        handle(req, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => conns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A keep-alive HTTP/1.1 response with a Content-Length. */
export function keepAliveResponse(body: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`;
}
