// TLS in every mode against loopback HTTPS servers serving the certificates in fixtures/tls/: a
// certificate that fails verification keeps its own code, -k skips verification, --cacert adds a CA.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, run } from './helpers/cli.js';

const MODES = ['async', 'threads', 'processes', 'inline'] as const;
const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const CA = `${TLS}ca.pem`;
const pem = (name: string) => readFileSync(`${TLS}${name}`);

/** One HTTPS server per certificate; each logs the paths it served. */
const SERVERS = {
  selfSigned: { cert: pem('self-signed.pem'), key: pem('self-signed.key') },
  leaf: { cert: pem('server.pem'), key: pem('server.key') },
  chain: { cert: Buffer.concat([pem('server.pem'), pem('ca.pem')]), key: pem('server.key') },
  expired: { cert: pem('expired.pem'), key: pem('expired.key') },
  wrongHost: { cert: pem('wrong-host.pem'), key: pem('wrong-host.key') },
} as const;
type Name = keyof typeof SERVERS;
const servers = {} as Record<Name, { server: HttpsServer; url: string; served: string[] }>;
let plain: Server;
let plainUrl: string;

beforeAll(async () => {
  for (const [name, creds] of Object.entries(SERVERS) as [Name, (typeof SERVERS)[Name]][]) {
    const served: string[] = [];
    const server = createServer(creds, (req, res) => {
      served.push(req.url!);
      res.end('ok\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers[name] = { server, url: `https://127.0.0.1:${(server.address() as { port: number }).port}`, served };
  }
  plain = createHttpServer((_req, res) => res.end('plain\n'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  plainUrl = `https://127.0.0.1:${(plain.address() as { port: number }).port}`;
});
afterAll(() => {
  for (const { server } of Object.values(servers)) {
    server.closeAllConnections();
    server.close();
  }
  plain.closeAllConnections();
  plain.close();
});

/** Fetch one URL on each server (in that order) with these flags: name → the record's error code, or 'ok'. */
async function outcomes(mode: string, flags: string[], names: Name[], tag: string): Promise<Record<string, string>> {
  const r = await run(['-m', mode, '-c', '2', '-f', 'ndjson', ...flags, ...names.map((n) => `${servers[n].url}/${tag}`)]);
  const records = ndjson(r.stdout) as { index: number; ok: boolean; status: number | null; error: { code: string } | null }[];
  expect(records, r.stderr).toHaveLength(names.length);
  return Object.fromEntries(records.map((rec) => [names[rec.index]!, rec.ok ? 'ok' : rec.error!.code]));
}

const ALL: Name[] = ['selfSigned', 'leaf', 'chain', 'expired', 'wrongHost'];

describe.each(MODES)('%s mode', (mode) => {
  it('without flags every certificate here fails, each with its own code; an https URL on a plain port is TLS_FAILED', async () => {
    expect(await outcomes(mode, [], ['selfSigned', 'leaf', 'chain'], `none-${mode}`)).toEqual({
      selfSigned: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      leaf: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      chain: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const r = await run(['-m', mode, '-f', 'ndjson', `${plainUrl}/`]);
    expect((ndjson(r.stdout)[0] as { error: { code: string } }).error.code).toBe('TLS_FAILED');
  });

  it('--cacert adds the test CA: its certificates pass, an expired one and one for another host fail with their codes', async () => {
    expect(await outcomes(mode, ['--cacert', CA], ALL, `ca-${mode}`)).toEqual({
      selfSigned: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      leaf: 'ok',
      chain: 'ok',
      expired: 'CERT_HAS_EXPIRED',
      wrongHost: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(servers.leaf.served).toContain(`/ca-${mode}`);
    expect(servers.expired.served).not.toContain(`/ca-${mode}`);
  });

  it('--cacert keeps what NODE_EXTRA_CA_CERTS trusts (Node’s own `ca` option would drop it)', async () => {
    const r = await run(
      [
        '-m',
        mode,
        '-c',
        '2',
        '-f',
        'ndjson',
        '--cacert',
        CA,
        `${servers.selfSigned.url}/extra-${mode}`,
        `${servers.leaf.url}/extra-${mode}`,
      ],
      {
        env: { NODE_EXTRA_CA_CERTS: `${TLS}self-signed.pem` },
      },
    );
    expect(
      ndjson(r.stdout).map((rec) => (rec as { ok: boolean }).ok),
      r.stdout,
    ).toEqual([true, true]);
  });

  it('-k fetches from every one of them, and the servers saw the requests', async () => {
    const got = await outcomes(mode, ['-k'], ALL, `k-${mode}`);
    expect(got).toEqual(Object.fromEntries(ALL.map((n) => [n, 'ok'])));
    for (const n of ALL) expect(servers[n].served).toContain(`/k-${mode}`);
  });
});

describe('--cacert usage errors', () => {
  it('a missing file or one without a PEM certificate: one line, exit 2', async () => {
    for (const [file, re] of [
      ['/nonexistent/ca.pem', /--cacert.*cannot read '\/nonexistent\/ca\.pem': ENOENT/],
      [fileURLToPath(new URL('../fixtures/tls/README.md', import.meta.url)), /--cacert.*no PEM certificate/],
    ] as const) {
      const r = await run(['--cacert', file, `${servers.leaf.url}/`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^fetchall: /);
    }
  });
});

describe('--cacert: each PEM block checked', () => {
  const corrupt = '-----BEGIN CERTIFICATE-----\nAAAAbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';
  it('a corrupt block, alone or before good ones, is a usage error naming the file and the block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchall-pem-'));
    try {
      const good = readFileSync(CA, 'utf8');
      const only = join(dir, 'only.pem');
      const mixed = join(dir, 'mixed.pem');
      writeFileSync(only, corrupt);
      writeFileSync(mixed, `${good}\n${corrupt}${good}`);
      for (const [file, block] of [
        [only, 1],
        [mixed, 2],
      ] as const) {
        const r = await run(['--cacert', file, `${servers.leaf.url}/`]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.split('\n')[0]).toContain(`certificate ${block} in '${file}' is not a usable certificate`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
