// Browser smoke test of Yavka's pages against a running server.
//
//   BASE=http://127.0.0.1:8080 SCREENSHOTS=/tmp/yavka-shots node tests/browser/smoke.mjs
//
// Checks that the programme renders and a 422 shows field errors (/), that a bad personal link
// says so and offers to send the link again (/watch?token=bad), that the consent texts read as
// documents (/texts/…), that a phone registration ends in «Проверьте почту», and that /org asks
// to sign in. Saves a desktop (1280×800) and a phone (390×844) screenshot of each. Needs /usr/bin/chromium and
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
    const res = await page.goto(`${BASE}/watch?token=bad`);
    check(res.status() === 404, `${kind} /watch?token=bad: answered 404 (${res.status()})`);
    await page.getByRole('heading', { name: 'Эта ссылка не работает' }).waitFor({ timeout: 10_000 });
    check(await page.isVisible('#relink-form'), `${kind} /watch?token=bad: offers to send the link again`);
    await page.fill('#relink-email', `nobody-${kind}@example.org`);
    await page.click('#relink-submit');
    await page.locator('#relink-status:not([hidden])').waitFor({ timeout: 10_000 });
    const said = await page.textContent('#relink-status');
    check(said.includes(`nobody-${kind}@example.org`) && said.includes('Если адрес'), `${kind} /watch?token=bad: the request is answered without telling whether the address is known («${said}»)`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${kind} /watch?token=bad: fits the width (overflow ${overflow}px)`);
  });

  await withPage(browser, viewport, `text-${kind}`, async (page) => {
    await page.goto(`${BASE}/texts/personal-data`);
    await page.getByRole('heading', { name: 'Согласие на обработку персональных данных' }).waitFor({ timeout: 10_000 });
    check((await page.textContent('#doc-meta')).includes('Редакция 1'), `${kind} /texts/personal-data: names its version`);
    check(await page.locator('#doc-body h2').count() >= 5, `${kind} /texts/personal-data: reads as a document with sections`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${kind} /texts/personal-data: fits the width (overflow ${overflow}px)`);
  });

  if (kind === 'phone') {
    await withPage(browser, viewport, 'registered-phone', async (page) => {
      await page.goto(`${BASE}/`);
      await page.locator('#ver-terms:not(:empty)').waitFor({ timeout: 10_000 });
      await page.fill('#name', 'Орлова Вера Павловна');
      await page.fill('#email', 'vera.orlova@example.org');
      await page.fill('#phone', '+7 916 555-77-88');
      await page.fill('#specialty-search', 'рентген');
      await page.selectOption('#specialty', { label: 'рентгенология' });
      await page.check('#consent_personal_data');
      await page.check('#consent_terms');
      await page.click('#submit');
      await page.locator('#reg-done').waitFor({ state: 'visible', timeout: 10_000 });
      check((await page.textContent('#done-email')) === 'vera.orlova@example.org', 'phone /: «Проверьте почту» names the address');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(overflow <= 0, `phone /: the answer fits the width (overflow ${overflow}px)`);
      await page.locator('#reg-done').scrollIntoViewIfNeeded();
    });
  }

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
