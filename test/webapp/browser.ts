/**
 * Shared pieces of the web app's browser tests: Debian's Chromium driven by playwright-core,
 * axe checks, screenshots under test-artifacts/webapp, files made with sharp and dropped on
 * the page through a DataTransfer built in the page.
 */
import AxeBuilder from '@axe-core/playwright';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { quadrants } from '../helpers/images';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dir, '../../test-artifacts/webapp');

/** Chromium as the tests drive it; `args` adds switches (such as a host mapping). */
export async function launch(args: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`);
  if (!existsSync(resolve(import.meta.dir, '../../web/dist/index.html'))) throw new Error('web/dist is not built: run npm run build:web');
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', ...args],
  });
}

export const shot = (page: Page, name: string) => page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: false });

/** Serious or critical axe violations on the page as it is now (empty when none). */
export async function axeProblems(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page: page as never }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
}

export interface Upload {
  name: string;
  type: string;
  bytes: Buffer;
}

export async function png(name: string, width: number, height: number, noise = false): Promise<Upload> {
  const img = noise
    ? sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    : sharp({ create: { width, height, channels: 3, background: { r: (width * 7) % 255, g: 120, b: (height * 3) % 255 } } });
  return { name, type: 'image/png', bytes: await img.png().toBuffer() };
}

/** Four coloured quadrants (something to look at in the screenshots). */
export async function quads(name: string, width: number, height: number): Promise<Upload> {
  return { name, type: 'image/png', bytes: await quadrants(width, height).png().toBuffer() };
}

export async function jpeg(name: string, width: number, height: number): Promise<Upload> {
  const bytes = await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 90, b: 200 } } }).jpeg().toBuffer();
  return { name, type: 'image/jpeg', bytes };
}

/** A small, valid one-page PDF. */
export function pdf(name: string): Upload {
  const body = [
    '%PDF-1.4',
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
  ].join('\n');
  return { name, type: 'application/pdf', bytes: Buffer.from(body) };
}

/** Drops files on the library the way a person's drag and drop does (a DataTransfer built in the page). */
export async function dropFiles(page: Page, files: Upload[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    const target = document.querySelector('.library');
    if (!target) throw new Error('no library on this page');
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

/** The first link to `path` in a mail (quoted-printable undone). */
export function linkFrom(raw: string, path: string): string {
  const text = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = new RegExp(`(https?://[^\\s"<>]+${path}\\?token=[A-Za-z0-9_-]+)`).exec(text);
  if (!m?.[1]) throw new Error(`no ${path} link in mail:\n${text}`);
  return m[1];
}

/** Resolves once `condition()` holds, checking every 20 ms (a condition, not a clock); throws after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
