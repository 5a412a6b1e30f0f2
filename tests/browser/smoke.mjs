// Browser smoke test of Yavka's pages against a running server.
//
//   BASE=http://127.0.0.1:8080 SCREENSHOTS=/tmp/yavka-shots node tests/browser/smoke.mjs
//
// Checks that the programme renders and a 422 shows field errors (/), that a bad personal link
// shows the invalid-link message (/watch?token=bad), and that /org asks to sign in. Saves a
// desktop (1280×800) and a phone (390×844) screenshot of each. Needs /usr/bin/chromium and
// `npm ci` in web/ (tests/common_browser/mod.rs installs both).

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

// playwright-core is a devDependency of web/, so resolve it from there.
const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const BASE = (process.env.BASE || process.argv[2] || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
fs.mkdirSync(SHOTS, { recursive: true });

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const failures = [];

function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

async function withPage(browser, viewport, name, fn) {
  const context = await browser.newContext({ viewport, locale: 'ru-RU', deviceScaleFactor: 1, isMobile: viewport.width < 500, hasTouch: viewport.width < 500 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await fn(page);
  } catch (e) {
    check(false, `${name}: ${e.message.split('\n')[0]}`);
  }
  check(errors.length === 0, `${name}: no script errors${errors.length ? ` (${errors.join('; ')})` : ''}`);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

for (const [kind, viewport] of Object.entries(VIEWPORTS)) {
  await withPage(browser, viewport, `index-${kind}`, async (page) => {
    await page.goto(`${BASE}/`);
    await page.locator('.session').first().waitFor({ timeout: 10_000 });
    check(await page.locator('.session').count() > 0, `${kind} /: the programme shows sessions`);
    check(await page.locator('#specialty option').count() > 0, `${kind} /: the specialty list is filled`);
    await page.click('#submit');
    await page.locator('#err-name:not(:empty)').waitFor({ timeout: 10_000 });
    check((await page.textContent('#err-name')).length > 0, `${kind} /: a 422 shows the name error next to the field`);
    check(await page.getAttribute('#name', 'aria-invalid') === 'true', `${kind} /: the name field is marked invalid`);
    check(await page.isVisible('#form-status'), `${kind} /: the form shows a summary of the errors`);
  });

  await withPage(browser, viewport, `watch-bad-${kind}`, async (page) => {
    await page.goto(`${BASE}/watch?token=bad`);
    await page.getByText('Ссылка недействительна').first().waitFor({ timeout: 10_000 });
    check(await page.isHidden('#player'), `${kind} /watch?token=bad: the player stays hidden`);
    check((await page.getAttribute('#status', 'data-state')) === 'stopped', `${kind} /watch?token=bad: the status line says the link does not work`);
  });

  await withPage(browser, viewport, `org-${kind}`, async (page) => {
    await page.goto(`${BASE}/org`);
    await page.locator('#login').waitFor({ state: 'visible', timeout: 10_000 });
    check(await page.isVisible('#login-name') && await page.isVisible('#login-password'), `${kind} /org: the sign-in form shows`);
    check(await page.isHidden('#dash'), `${kind} /org: the dashboard stays hidden before sign-in`);
  });
}

await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('all checks passed');
