import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/**
 * Headless Chromium for the browser tests, driven by playwright-core (which downloads no browser).
 *
 * Where the browser comes from: the `CHROMIUM_PATH` environment variable when set, else
 * `/usr/bin/chromium` (Debian's `chromium` package; `.ci/run` installs it when it is missing and it
 * has the rights). On a machine where it cannot start, the browser tests are skipped — loudly: a
 * banner on the console and every test reported as skipped — unless `RE_FHIR_BROWSER_REQUIRED=1`,
 * which turns the absence into a failure (CI sets it once the install succeeded).
 */

/** The Chromium executable the tests use. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * Flags for this closed network: without the background-networking ones Chromium keeps trying to
 * reach Google's hosts. Playwright adds `--headless` and a fresh `--user-data-dir` itself.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether the browser can start here, and why not. */
export type BrowserAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string };

let probed: BrowserAvailability | undefined;

/**
 * Starts the browser once, outside Playwright, on a blank page (synchronously, so that a test file
 * can decide at load time whether its tests run or are skipped). The answer is cached.
 */
export function browserAvailability(): BrowserAvailability {
  if (probed) {
    return probed;
  }
  if (!existsSync(CHROMIUM_PATH)) {
    probed = {
      ok: false,
      reason: `no browser at ${CHROMIUM_PATH} (set CHROMIUM_PATH, or apt-get install chromium)`,
    };
    return probed;
  }
  const profile = mkdtempSync(join(tmpdir(), 're-fhir-chromium-probe-'));
  try {
    const dom = execFileSync(
      CHROMIUM_PATH,
      ['--headless', ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--dump-dom', 'about:blank'],
      { timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' }
    );
    probed = dom.includes('<html') ? { ok: true } : { ok: false, reason: `${CHROMIUM_PATH} printed no page` };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    probed = { ok: false, reason: `${CHROMIUM_PATH} did not start: ${message}` };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  return probed;
}

/**
 * `describe` for tests that need the browser: runs them when it can start; otherwise prints a banner
 * and registers them as skipped (or, with RE_FHIR_BROWSER_REQUIRED=1, fails).
 * @param name - The describe block's name.
 * @param body - The tests.
 */
export function describeWithBrowser(name: string, body: () => void): void {
  const availability = browserAvailability();
  if (availability.ok) {
    describe(name, body);
    return;
  }
  if (process.env.RE_FHIR_BROWSER_REQUIRED === '1') {
    describe(name, () => {
      test('needs a browser that starts', () => {
        throw new Error(`RE_FHIR_BROWSER_REQUIRED=1 but ${availability.reason}`);
      });
    });
    return;
  }
  const line = '!'.repeat(100);
  console.warn(
    `${line}\n!!! BROWSER TESTS SKIPPED: ${name}\n!!! ${availability.reason}\n` +
      `!!! These tests did not run. Install Chromium (Debian: apt-get install chromium) or set CHROMIUM_PATH.\n${line}`
  );
  describe.skip(`${name} [SKIPPED: no browser — ${availability.reason}]`, body);
}

/**
 * Launches headless Chromium with the flags above.
 * @param extraArgs - More flags (for example `--host-resolver-rules`, to give 127.0.0.1 another name).
 */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}
