import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type BrowserContext, chromium, type Page, type ViewportSize } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core, for the e2e tests of the gateway's own pages. The
 * system browser rather than Playwright's download: CI installs it with apt-get, and nothing is
 * fetched at test time.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Where a test leaves a screenshot named `file`: dist/ is git-ignored. */
export function screenshotPath(file: string): string {
  return join(__dirname, '..', '..', 'dist', file);
}

export interface OfflineBrowser {
  readonly context: BrowserContext;
  /** The first page, with the step timeout as its default. */
  readonly page: Page;
  /** URLs off this machine that any page of the browser asked for; each was refused. */
  readonly outside: string[];
  /** Uncaught script errors of `page`. */
  readonly pageErrors: string[];
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Launches Chromium with a fresh profile (no cached asset or saved page state from an earlier
 * run) and opens a page. Every request to anything but this machine is refused before it leaves
 * the browser, and recorded, so that a test can prove its page needs no internet access.
 */
export async function openOfflineBrowser(name: string, options: { stepTimeoutMs: number; viewport?: ViewportSize }): Promise<OfflineBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: run "apt-get update && apt-get install -y chromium" (.ci/run does this), or set CHROMIUM_PATH`);
  }
  const profileDir = mkdtempSync(join(tmpdir(), `${name}-chromium-`));
  const context = await chromium
    .launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true, timeout: 30_000, viewport: options.viewport })
    .catch((error: unknown) => {
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    });
  const close = async () => {
    await context.close();
    rmSync(profileDir, { recursive: true, force: true });
  };
  try {
    const outside: string[] = [];
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (isLoopback(url)) return route.continue();
      outside.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.setDefaultTimeout(options.stepTimeoutMs);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return { context, page, outside, pageErrors, close };
  } catch (error) {
    await close();
    throw error;
  }
}
