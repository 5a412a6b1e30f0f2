// The bounds of issue 11 in the real browser, against a running server with an organiser:
// the dashboard imports a CSV file saved by Russian Excel (Windows-1251) and says so, also
// on a phone; a form on a page of another origin cannot post to the API (the browser names
// its origin and the server answers 403); signing out works and a second one is refused.
//
//   BASE=… ORG_LOGIN=… ORG_PASSWORD=… SCREENSHOTS=/tmp/shots node tests/browser/bounds.mjs

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
fs.mkdirSync(SHOTS, { recursive: true });
const failures = [];

function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

/** Text in Windows-1251, as Russian Excel saves «CSV (разделители — запятые)». */
function cp1251(text) {
  return Buffer.from([...text].map((c) => {
    const code = c.codePointAt(0);
    if (code < 0x80) return code;
    if (code >= 0x410 && code <= 0x44f) return code - 0x410 + 0xc0;
    if (c === 'Ё') return 0xa8;
    if (c === 'ё') return 0xb8;
    throw new Error(`no Windows-1251 byte for ${c}`);
  }));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ru-RU', isMobile: true, hasTouch: true });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
try {
  await page.goto(`${BASE}/org`);
  await page.fill('#login-name', process.env.ORG_LOGIN);
  await page.fill('#login-password', process.env.ORG_PASSWORD);
  await page.click('#login-submit');
  await page.locator('#logout').waitFor({ state: 'visible', timeout: 10_000 });

  // The import: a Windows-1251 file through the file picker.
  const csv = 'name;email;phone;education;specialty\nЁлкина Мария Ивановна;elkina@example.org;+79161234567;higher;рентгенология\n';
  await page.locator('details:has(#import-file) summary').click();
  await page.setInputFiles('#import-file', { name: 'участники.csv', mimeType: 'text/csv', buffer: cp1251(csv) });
  await page.click('#import-send');
  const result = page.locator('#import-result .notice');
  await result.waitFor({ timeout: 10_000 });
  const said = await result.textContent();
  check(said.includes('Создано: 1') && said.includes('Windows-1251'), `the import says what it did: «${said}»`);
  check(await page.locator('#import-result td', { hasText: 'Ёлкина Мария Ивановна' }).count() === 1, 'the name reads right');
  await page.locator('#import-result').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'org-import-cp1251-phone.png') });

  // A file of many bad rows: the first hundred errors and the count, nothing imported.
  let bad = 'name,email,phone,education,specialty\n';
  for (let i = 0; i < 150; i += 1) bad += `Кто-то,x${i},1,higher,астрология\n`;
  await page.setInputFiles('#import-file', { name: 'плохой.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  await page.click('#import-send');
  await page.locator('#import-result .field-error').waitFor({ timeout: 10_000 });
  const refused = await page.textContent('#import-result .notice');
  check(refused.startsWith('Ничего не импортировано') && refused.includes('150 из 150') && refused.includes('Показаны первые 100'), `a bad file is refused with the count: «${refused}»`);
  check(await page.locator('#import-result .field-error li').count() === 100, 'the first 100 errors are listed');
  await page.locator('#import-result').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SHOTS, 'org-import-errors-phone.png') });

  // A page of another origin (the same server under another name) submits a form to the
  // mail endpoint, the classic cross-site request: the browser names its origin, and the
  // answer (shown as the page it navigates to) is a refusal in Russian.
  const other = await context.newPage();
  const foreign = BASE.replace('127.0.0.1', 'localhost');
  await other.goto(`${foreign}/`);
  const [answer] = await Promise.all([
    other.waitForNavigation(),
    other.evaluate((url) => {
      const form = Object.assign(document.createElement('form'), { method: 'POST', action: url });
      form.append(Object.assign(document.createElement('input'), { name: 'a', value: '1' }));
      document.body.append(form);
      form.submit();
    }, `${BASE}/api/org/mail/links`),
  ]);
  check(answer.status() === 403, `a form posted from ${foreign} is refused (${answer.status()})`);
  const refusal = await other.textContent('body');
  check(refusal.includes('не со страницы этого сервера'), `the refusal is in Russian: ${refusal}`);
  await other.close();

  // Signing out, and signing out again.
  await page.click('#logout');
  await page.locator('#login').waitFor({ state: 'visible', timeout: 10_000 });
  const again = await page.evaluate(async () => (await fetch('/api/org/logout', { method: 'POST' })).status);
  check(again === 401, `a second sign-out is refused (${again})`);
} catch (e) {
  check(false, e.message.split('\n')[0]);
}
check(errors.length === 0, `no script errors${errors.length ? ` (${errors.join('; ')})` : ''}`);
await browser.close();
if (failures.length) {
  console.log(`${failures.length} failed`);
  process.exit(1);
}
