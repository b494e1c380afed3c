// The engine for a run's mode, loaded on demand: undici alone takes a third of a second to load,
// and only async needs it.

import type { Engine } from '../core/types.js';
import type { RunConfig } from './run.js';

export async function createEngine(config: Pick<RunConfig, 'mode' | 'request' | 'concurrency'>): Promise<Engine> {
  switch (config.mode) {
    case 'async': {
      const { AsyncEngine } = await import('../engines/async.js');
      return new AsyncEngine(config.request, config.concurrency);
    }
    case 'threads': {
      const { ThreadsEngine } = await import('../engines/threads.js');
      return new ThreadsEngine(config.request, config.concurrency);
    }
    case 'processes': {
      const { ProcessesEngine } = await import('../engines/processes.js');
      return new ProcessesEngine(config.request, config.concurrency);
    }
    case 'inline': {
      const { InlineEngine } = await import('../engines/inline.js');
      return new InlineEngine(config.request);
    }
  }
}
