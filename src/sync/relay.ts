// Starts this process's relay thread (relay-thread.ts) and hands each blocking client its own channel to it.

import { once } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { RelayClient, RelayData } from './protocol.js';

export class Relay {
  private warming = true;

  private constructor(
    private readonly worker: Worker,
    /** A local URL to warm a blocking client on (served by the relay thread until endWarmUp). */
    private readonly warmEndpoint: string,
  ) {}

  /** The URL to warm a new client on; '' once the warm-up is over (a later client starts cold). */
  get warmUrl(): string {
    return this.warming ? this.warmEndpoint : '';
  }

  /** This process's clients are warm: the relay stops listening on its warm endpoint. */
  endWarmUp(): void {
    if (!this.warming) return;
    this.warming = false;
    this.worker.postMessage({ endWarmUp: true });
  }

  static async start(maxSize: number): Promise<Relay> {
    const worker = new Worker(new URL('./relay-thread.js', import.meta.url), {
      workerData: { maxSize } satisfies RelayData,
      stdout: false,
      stderr: false,
    });
    let warmUrl: string;
    try {
      const [msg] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e))])) as [unknown];
      const ready = msg as { ready?: boolean; warmUrl?: string };
      if (!ready.ready || !ready.warmUrl) throw new Error('relay thread did not start');
      warmUrl = ready.warmUrl;
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    worker.unref();
    return new Relay(worker, warmUrl);
  }

  /** A new channel: one side goes to the relay now, the returned side to the blocking client. */
  client(): RelayClient {
    const { port1, port2 } = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    this.worker.postMessage({ port: port1, flag } satisfies RelayClient, [port1]);
    return { port: port2, flag };
  }

  get threadId(): number {
    return this.worker.threadId;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
