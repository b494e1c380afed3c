// The two ways to make a pool member: a worker thread (its HTTP on the main process's relay
// thread) or a child process (child_process.fork, with its own relay thread). pool.ts drives both.

import { type ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Relay } from '../sync/relay.js';
import type { Member, MemberEvents, Transport } from './pool.js';
import type { FromMember, MemberSetup, ThreadMemberData, ToMember } from './pool-protocol.js';

/** Worker threads sharing one relay thread in this process. */
export class ThreadTransport implements Transport {
  readonly noun = 'worker thread';
  private relay: Relay | null = null;

  constructor(private readonly maxSize: number) {}

  async init(): Promise<void> {
    this.relay = await Relay.start(this.maxSize);
  }

  threads(size: number): number {
    return size + 1; // the members and the relay
  }

  warmed(): void {
    this.relay?.endWarmUp();
  }

  start(setup: MemberSetup, events: MemberEvents): Member {
    const relay = this.relay;
    if (!relay) throw new Error('the relay thread is not running');
    const hopCell = new SharedArrayBuffer(4);
    const cell = new Int32Array(hopCell);
    const data: ThreadMemberData = { setup, relay: relay.client(), warmUrl: relay.warmUrl, hopCell };
    const worker = new Worker(new URL('./threads-worker.js', import.meta.url), {
      workerData: data,
      transferList: [data.relay.port],
      stdout: false,
      stderr: false,
    });
    worker.on('message', (msg: FromMember) => events.message(msg));
    worker.on('error', (err) => events.lost(`died: ${err.message.split('\n')[0]}`));
    worker.on('exit', (code) => events.lost(`exited with code ${code}`));
    return {
      pid: null,
      post: (msg: ToMember) => worker.postMessage(msg),
      grant: (seq) => {
        Atomics.store(cell, 0, seq);
        Atomics.notify(cell, 0);
      },
      stop: async () => {
        await worker.terminate();
      },
    };
  }

  async close(): Promise<void> {
    await this.relay?.close();
    this.relay = null;
  }
}

/** Child processes, each with its own relay thread; talked to over the IPC channel fork gives. */
export class ProcessTransport implements Transport {
  readonly noun = 'process';
  private readonly children = new Set<ChildProcess>();

  async init(): Promise<void> {}

  threads(size: number): number {
    return 2 * size; // each member process: its main thread and its relay thread
  }

  start(setup: MemberSetup, events: MemberEvents): Member {
    const child = fork(new URL('./process-worker.js', import.meta.url), [], {
      // stdin carries hop grants; its stdout and stderr are not the user's (a failure is its URL's record).
      stdio: ['pipe', 'ignore', 'ignore', 'ipc'],
      serialization: 'advanced',
      execArgv: [],
    });
    this.children.add(child);
    let gone = false;
    const lost = (reason: string) => {
      if (gone) return;
      gone = true;
      this.children.delete(child);
      events.lost(reason);
    };
    child.on('message', (msg: FromMember) => events.message(msg));
    child.on('error', (err) => lost(`failed: ${err.message.split('\n')[0]}`));
    child.on('exit', (code, signal) => lost(signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.stdin?.on('error', () => {});
    // A SharedArrayBuffer cannot cross a process boundary (send() throws DataCloneError): a
    // process member claims -o names on disk only, where claimInto's link() still gives every
    // record a file of its own; only which of a URL's records gets the bare name may differ.
    const own: MemberSetup = { ...setup, options: { ...setup.options, saveClaims: null } };
    // A fork that failed (spawn EMFILE) has no channel; its 'error' event tells the pool.
    if (child.connected) child.send({ type: 'setup', setup: own } satisfies ToMember);
    return {
      get pid() {
        return child.pid ?? null;
      },
      post: (msg: ToMember) => {
        if (child.connected) child.send(msg);
      },
      grant: (seq) => {
        const buf = Buffer.alloc(4);
        buf.writeInt32LE(seq);
        child.stdin?.write(buf);
      },
      stop: () => stopChild(child),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.children].map(stopChild));
  }
}

/** SIGKILL (a member blocked in a request cannot run a handler) and wait until it is gone. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
