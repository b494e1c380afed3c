// `fetchall serve`: start the built-in server, print its base URL and its routes, and serve until SIGINT/SIGTERM.

import { UsageError } from '../core/errors.js';
import { startServer, type TestServer } from './index.js';
import { routeList } from './routes.js';

/** Resolves once a signal has stopped the server. */
function untilSignal(server: TestServer): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(() => {
        process.stderr.write('fetchall serve: stopped\n');
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function serveCommand(opts: { host: string; port: number }): Promise<void> {
  let server: TestServer;
  try {
    server = await startServer(opts);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError({ flag: null, reason: `serve: cannot listen on ${opts.host}:${opts.port}: ${code}` });
  }
  // Callers (the demo, scripts) read the first stdout line to find the server, so the URL comes first.
  process.stdout.write(`${server.url}\n${routeList()}`);
  // A caller that cannot read the URL cannot use the server: stop, and exit 74 (cli.ts says why).
  const unwritten = process.stdout.errored;
  if (unwritten) {
    await server.close();
    throw unwritten;
  }
  await untilSignal(server);
}
