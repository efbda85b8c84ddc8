// A real browser for tests: Debian's Chromium (scripts/setup-browser.sh installs it) driven by
// playwright-core. Nothing may leave the machine, so every context aborts each request to a host other
// than loopback and remembers it: a test can then assert that its page asked for nothing outside.
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Skips (with a message) where Chromium is missing, except in CI, where that is a failure. */
export function chromiumOrSkip(): { skipReason?: string } {
  if (existsSync(CHROMIUM_PATH)) return {};
  const problem = `no Chromium at ${CHROMIUM_PATH}`;
  if (process.env.CI)
    throw new Error(`browser tests need Chromium in CI: ${problem} (run npm run setup:browser)`);
  console.warn(`[browser] skipping browser tests: ${problem} (install it with npm run setup:browser)`);
  return { skipReason: problem };
}

export interface GuardedContext {
  context: BrowserContext;
  /** Every request the context aborted because it was not for a loopback host. */
  blocked: string[];
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}

/** A browser context that only reaches loopback addresses. */
export async function guardedContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<GuardedContext> {
  const context = await browser.newContext(options);
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    let host = '';
    try {
      host = new URL(url).hostname;
    } catch {
      // not a URL with a host: blocked below
    }
    if (LOOPBACK_HOSTS.has(host)) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  return { context, blocked };
}
