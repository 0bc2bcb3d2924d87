// Headless Chromium for the browser suites: Debian's `chromium` (CHROMIUM_PATH, or `chromium` on
// PATH), driven by playwright-core; nothing downloads a browser. Without it the suites are skipped
// with a printed notice, and under CI=true they fail.
import { describe, jest } from '@jest/globals';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
// The page's `window.tokenflightPage` declaration.
import type {} from './page.js';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, else `chromium` on PATH, if it is there. */
export function findChromium(): string | undefined {
  const given = process.env['CHROMIUM_PATH'];
  if (given !== undefined && given !== '') return executable(given) ? given : undefined;
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((directory) => directory !== '')
    .map((directory) => join(directory, 'chromium'))
    .find(executable);
}

export const chromiumPath = findChromium();

const HOW = 'install it with `apt-get install -y chromium` (Debian), or point CHROMIUM_PATH at a Chromium binary';
if (chromiumPath === undefined) {
  if (process.env['CI'] === 'true') {
    throw new Error(`chromium is not on PATH and CI=true: the browser suites must run; ${HOW}`);
  }
  console.warn(
    `\n[tokenflight] chromium is not on PATH: the browser suites (__tests__/browser) are SKIPPED; ${HOW}.\n`,
  );
}

// Pages take a while to open on a loaded machine (the CI box runs other suites at once): a test
// or hook of a browser suite may take up to this long, unless it says otherwise.
jest.setTimeout(30_000);

/** `describe` when Chromium is there, else `describe.skip` (the notice above says why). */
export const describeBrowser: (name: string, suite: () => void) => void =
  chromiumPath === undefined ? describe.skip : describe;

/**
 * A headless Chromium; `hostRules` maps hostnames (`--host-resolver-rules`). playwright-core gives
 * it a fresh user-data directory of its own, removed when it closes.
 */
export async function launchChromium(options: { hostRules?: string } = {}): Promise<{
  browser: Browser;
  close(): Promise<void>;
}> {
  if (chromiumPath === undefined) throw new Error(`no chromium: ${HOW}`);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.hostRules === undefined ? [] : [`--host-resolver-rules=${options.hostRules}`]),
    ],
  });
  return { browser, close: () => browser.close() };
}

/** Opens `url` in a new page of `context` and waits for the test page's script to be ready. */
export async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(url);
  await page
    .waitForFunction(() => typeof window.tokenflightPage === 'object')
    .catch((error: unknown) => {
      throw errors[0] ?? error;
    });
  return page;
}
