// What every browser script needs: where the server is, a Chromium to drive, pages in contexts
// of their own with their script errors collected, screenshots, and checks that print as they
// go and make the script exit non-zero at the end if any failed.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

export const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
export const LOGIN = process.env.ORG_LOGIN || 'admin';
export const PASSWORD = process.env.ORG_PASSWORD || '';
export const WAIT = { timeout: 15_000 };
fs.mkdirSync(SHOTS, { recursive: true });

const failures = [];
const scriptErrors = [];

export function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

export const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});

/** A page in a browser context of its own (its own cookies), Russian, desktop-sized. */
export async function newPage(name, options = {}) {
  const context = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 860 }, ...options });
  const page = await context.newPage();
  page.on('pageerror', (e) => scriptErrors.push(`${name}: ${e}`));
  return page;
}

export const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The organiser's dashboard, signed in. */
export async function signedIn(page) {
  await page.goto(`${BASE}/org`);
  await page.locator('#login').waitFor({ state: 'visible', ...WAIT });
  await page.fill('#login-name', LOGIN);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  return page;
}

/** Closes the browser and exits non-zero if a check failed or a page threw. */
export async function finish() {
  check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
  await browser.close();
  if (failures.length) {
    console.error(`${failures.length} check(s) failed`);
    process.exit(1);
  }
}
