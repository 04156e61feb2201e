/**
 * The README's Quick start, followed literally: its shell block is read from README.md itself
 * (so the README cannot drift from what is tested), run with bash, in order, in an empty
 * directory holding only a photo.jpg and a logo.png, against a freshly started server. The only
 * substitutions are the ones a reader makes: the bootstrap API key for `pk_…` and the server's
 * port for `localhost:3000`. Every command's exit status and result are checked, and every
 * command must have a check here (a new README command fails this test until it gets one).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { freePort } from '../helpers/ports';
import { startServer, type RunningServer } from '../helpers/server';

const README = resolve(import.meta.dir, '../../README.md');

/** The commands of the first ```sh block under `## Quick start`: comments and blanks dropped, `\` continuations joined. */
export function quickStartCommands(readme: string): string[] {
  const section = readme.slice(readme.indexOf('\n## Quick start\n'));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section.slice(0, section.indexOf('\n## ', 5)))?.[1];
  if (!block) throw new Error('README.md has no ```sh block under "## Quick start"');
  const commands: string[] = [];
  let pending = '';
  for (const line of block.split('\n')) {
    if (!pending && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    pending += line;
    if (line.endsWith('\\')) pending += '\n';
    else {
      commands.push(pending);
      pending = '';
    }
  }
  return commands;
}

interface Ran {
  command: string;
  status: number;
  out: string;
  /** The value a `NAME=…` command left in NAME. */
  value?: string;
}

const json = <T>(text: string) => JSON.parse(text) as T;
const file = (name: string) => readFileSync(join(dir, name));
const header = (out: string, name: string) => new RegExp(`^${name}: *(.*?)\\r?$`, 'im').exec(out)?.[1];

/** What each Quick start command must do, matched on its text. */
const CHECKS: { match: RegExp; check(r: Ran): void | Promise<void> }[] = [
  { match: /^KEY=/, check: (r) => expect(r.value).toBe(server.bootstrap!.api_key) },
  { match: /^H=/, check: (r) => expect(r.value).toBe(`Authorization: Bearer ${server.bootstrap!.api_key}`) },
  { match: /^field\(\)/, check: (r) => expect(r.status).toBe(0) },
  {
    match: /-F image=@photo\.jpg/,
    check: (r) => {
      const { file: f } = json<{ file: { name: string; folder: string; size: number } }>(r.out);
      expect(f).toMatchObject({ name: 'photo.jpg', folder: '/holidays', size: photo.length });
      expect(file('upload.json').toString()).toBe(r.out);
    },
  },
  { match: /^ID=/, check: (r) => expect(r.value).toBe(json<{ file: { id: string } }>(file('upload.json').toString()).file.id) },
  {
    match: /--data-binary @logo\.png/,
    check: (r) => {
      const { file: f } = json<{ file: { name: string; folder: string; expires_at: string | null } }>(r.out);
      expect(f).toMatchObject({ name: 'logo.png', folder: '/brand' });
      expect(Date.parse(f.expires_at!) - Date.now()).toBeGreaterThan(80_000_000); // expires_in=86400
    },
  },
  { match: /\/i\/\$ID\.jpg -o original\.jpg/, check: () => expect(file('original.jpg').equals(photo)).toBe(true) },
  {
    match: /\/d\/\$ID -o download\.jpg/,
    check: (r) => {
      expect(r.out).toMatch(/^content-disposition: attachment; filename=/i);
      expect(file('download.jpg').equals(photo)).toBe(true);
    },
  },
  {
    match: /^curl -sI .*\/t\/w_400/,
    check: (r) => {
      expect(r.out).toMatch(/^HTTP\/1\.1 200/);
      expect(header(r.out, 'x-cache')).toBe('MISS');
      expect(header(r.out, 'content-type')).toMatch(/^image\//);
    },
  },
  {
    match: /t_thumb\/\$ID -o thumb\.webp/,
    check: async () => expect(await sharp(file('thumb.webp')).metadata()).toMatchObject({ format: 'webp', width: 200, height: 200 }),
  },
  { match: /^URL=/, check: (r) => expect(r.value).toMatch(/^http:\/\/localhost:\d+\/authenticated\/s--[^/]+\/[^/]*w_800[^/]*\/\w+$/) },
  { match: /^curl -s "\$URL" -o signed\.webp/, check: async () => expect((await sharp(file('signed.webp')).metadata()).format).toBe('webp') },
  { match: /\/api\/auth\/register/, check: (r) => expect(json<{ user: { email: string } }>(r.out).user.email).toBe('me@example.com') },
  { match: /^ACCESS_TOKEN=/, check: (r) => expect(r.value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/) },
  {
    match: /\/api\/auth\/api-keys/,
    check: (r) => expect(json<{ key: string; scopes: string[] }>(r.out)).toMatchObject({ key: expect.stringMatching(/^pk_/), scopes: ['files:read', 'files:write'] }),
  },
  { match: /\/api\/usage/, check: (r) => expect(json<{ files_count: number }>(r.out).files_count).toBe(2) },
  { match: /\/api\/logs\?/, check: (r) => expect(Array.isArray(json<{ results: unknown }>(r.out).results)).toBe(true) },
  {
    match: /\/api\/queue\/events/,
    check: (r) => {
      expect(r.status).toBe(28); // curl's "stopped by -m": the stream itself never ends
      expect(r.out).toContain(': connected');
    },
  },
  { match: /\/metrics/, check: (r) => expect(r.out).toContain('pictor_http_requests_total{') },
  {
    match: /-X PUT/,
    check: (r) => {
      expect(r.out).toMatch(/^HTTP\/1\.1 405/);
      expect(header(r.out, 'allow')).toBe('GET, HEAD, POST');
    },
  },
  { match: /openapi\.json -o openapi\.json/, check: () => expect(json<{ openapi: string }>(file('openapi.json').toString()).openapi).toMatch(/^3\./) },
];

let server: RunningServer;
let dir: string;
let photo: Buffer;
beforeAll(async () => {
  const port = await freePort();
  server = await startServer({ env: { PORT: String(port), PUBLIC_URL: `http://localhost:${port}` } });
  dir = await mkdtemp(join(tmpdir(), 'pictor-quickstart-'));
  photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a7' } }).jpeg().toBuffer();
  await writeFile(join(dir, 'photo.jpg'), photo);
  await writeFile(join(dir, 'logo.png'), await sharp({ create: { width: 64, height: 64, channels: 4, background: '#f00a' } }).png().toBuffer());
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the README Quick start runs as written, each command doing what it says', async () => {
  const commands = quickStartCommands(await readFile(README, 'utf8')).map((c) =>
    c.replace(/^KEY=pk_…/, `KEY=${server.bootstrap!.api_key}`).replaceAll('localhost:3000', `localhost:${server.port}`));
  for (const c of commands) expect(c, 'a placeholder the reader would have to fill in by hand').not.toContain('…');
  // Each command in the same shell (variables carry over), its output and status kept apart.
  const script = commands.map((c, i) => {
    const name = /^([A-Za-z_]\w*)=/.exec(c)?.[1];
    return `{\n${c}\n} > out.${i} 2> err.${i}\necho $? > rc.${i}\n${name ? `printf '%s' "$${name}" > var.${i}\n` : ''}`;
  }).join('');
  await writeFile(join(dir, '.quickstart.sh'), script);
  const run = spawnSync('bash', ['.quickstart.sh'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  expect(run.status).toBe(0);

  expect(commands.length).toBe(CHECKS.length);
  for (const [i, command] of commands.entries()) {
    const checks = CHECKS.filter((c) => c.match.test(command));
    expect(checks.length, `exactly one check for: ${command}`).toBe(1);
    const ran: Ran = {
      command,
      status: Number(readFileSync(join(dir, `rc.${i}`), 'utf8')),
      out: readFileSync(join(dir, `out.${i}`), 'utf8'),
      value: existsSync(join(dir, `var.${i}`)) ? readFileSync(join(dir, `var.${i}`), 'utf8') : undefined,
    };
    const stderr = readFileSync(join(dir, `err.${i}`), 'utf8');
    if (!/\/api\/queue\/events/.test(command)) expect(ran.status, `${command}\n${stderr}`).toBe(0);
    expect(stderr, command).toBe('');
    await checks[0]!.check(ran);
  }
}, 180_000);
