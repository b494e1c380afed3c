// Loaded before every test file: after each test, passed or failed, no child it started survives.

import { afterEach } from 'vitest';
import { killAll } from './cli.js';

afterEach(() => killAll());
