// Accessibility of every page in a real browser: axe-core (web/node_modules/axe-core, pinned
// in web/package.json) run over registration, the verify pages, the 404 page, an invalid
// link, a consent text, the player (counting, with a prompt open, paused by another tab), the viewer's
// results, the organiser's sign-in, dashboard, evidence panel and forum editor, and an API error opened in
// a tab — on a desktop and, for the viewer's pages, a phone.
// Fails on any violation axe rates serious or critical (and then saves a screenshot of the
// page as it was), and checks that the prompt is announced to screen readers (its role, name,
// description and where the focus goes), that the evidence timeline's labels do not overlap
// and that the focus ring stands out from white.
//
//   BASE=http://127.0.0.1:8080 MAILBOX=… ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/a11y.mjs          (A11Y_TIMES=1 prints how long each audit took)
//
// Needs a forum with a session going on now in hall-1 and hall-2 (tests/browser.rs starts one).

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { registerOverApi } from './mailbox.mjs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const AXE = require.resolve('axe-core/axe.min.js');

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
const LOGIN = process.env.ORG_LOGIN || 'admin';
const PASSWORD = process.env.ORG_PASSWORD || '';
const WAIT = { timeout: 15_000 };
fs.mkdirSync(SHOTS, { recursive: true });

const failures = [];
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

/** Runs axe on the page as it is now; fails on serious and critical violations. */
async function audit(page, name) {
  const started = Date.now();
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `${name}: no serious or critical axe violations${said.length ? `:\n    ${said.join('\n    ')}` : ''}`);
  const minor = result.violations.length - bad.length;
  if (minor) console.log(`     (${name}: ${minor} moderate or minor: ${result.violations.filter((v) => !bad.includes(v)).map((v) => v.id).join(', ')})`);
  if (process.env.A11Y_TIMES) console.log(`     ${name}: ${Date.now() - started} ms`);
  if (bad.length) await page.screenshot({ path: path.join(SHOTS, `a11y-${name}.png`), fullPage: true });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const scriptErrors = [];
async function newPage(name, viewport = { width: 1280, height: 860 }) {
  const phone = viewport.width < 500;
  const context = await browser.newContext({ locale: 'ru-RU', viewport, isMobile: phone, hasTouch: phone });
  const page = await context.newPage();
  page.on('pageerror', (e) => scriptErrors.push(`${name}: ${e}`));
  return page;
}
const PHONE = { width: 390, height: 844 };

try {
  // ---- Public pages ----
  for (const [kind, viewport] of [['desktop', undefined], ['phone', PHONE]]) {
    const page = await newPage(`index-${kind}`, viewport);
    await page.goto(`${BASE}/`);
    await page.locator('.session').first().waitFor(WAIT);
    await page.locator('#specialty option').first().waitFor({ state: 'attached', ...WAIT });
    await audit(page, `registration-${kind}`);
    if (kind === 'desktop') {
      await page.goto(`${BASE}/watch?token=bad`);
      await page.getByRole('heading', { name: 'Эта ссылка не работает' }).waitFor(WAIT);
      await audit(page, 'invalid-link');
      await page.goto(`${BASE}/texts/personal-data`);
      await page.locator('h1').first().waitFor(WAIT);
      await audit(page, 'consent-text');
    }
    await page.close();
  }
  const pub = await newPage('public');
  await pub.goto(`${BASE}/verify`);
  await audit(pub, 'verify-form');
  await pub.goto(`${BASE}/verify/ZZZZZZZZZZZZ`);
  await audit(pub, 'verify-not-issued');
  await pub.goto(`${BASE}/no-such-page`);
  await audit(pub, 'not-found');

  // ---- A viewer in hall 1 (her link comes by e-mail) ----
  const { status, link } = await registerOverApi(BASE, {
    name: 'Смирнова Ольга Викторовна', email: `a11y.${Date.now()}@example.org`, phone: '+79167770022',
  });
  check(status === 202 && Boolean(link), `a viewer registers and gets her link (${status})`);
  const token = new URL(link).searchParams.get('token');
  const viewer = await newPage('viewer');
  await viewer.goto(`${link}&hall=hall-1`);
  await viewer.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });
  await audit(viewer, 'player');
  const phone = await newPage('viewer-phone', PHONE);
  await phone.goto(`${link}&hall=hall-1`);
  await phone.locator('#tally-body').waitFor({ state: 'visible', ...WAIT });
  await audit(phone, 'player-phone');
  await phone.goto(`${BASE}/my?token=${token}`);
  await phone.locator('#results').waitFor({ state: 'visible', ...WAIT });
  await audit(phone, 'my-results-phone');
  await phone.click('#my-data-page');
  await phone.locator('h1').waitFor(WAIT);
  check((await phone.textContent('body')).includes('Телефон'), 'her own data page lists her registration');
  await audit(phone, 'my-data-phone');
  await phone.screenshot({ path: path.join(SHOTS, 'my-data-phone.png'), fullPage: true });
  await phone.close();

  // ---- The organiser: sign-in, dashboard ----
  const org = await newPage('organiser', { width: 1366, height: 900 });
  await org.goto(`${BASE}/org`);
  await org.locator('#login').waitFor({ state: 'visible', ...WAIT });
  await audit(org, 'org-sign-in');
  await org.fill('#login-name', LOGIN);
  await org.fill('#login-password', PASSWORD);
  await org.click('#login-submit');
  await org.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  const hall1 = org.locator('.hall-stat').first();
  await hall1.locator('.big-number').first().waitFor(WAIT);
  await audit(org, 'dashboard');

  // ---- A prompt: announced, focused, and accessible ----
  await hall1.getByRole('button', { name: 'Запросить подтверждение сейчас' }).click();
  await org.locator('#confirm-dialog[open]').waitFor(WAIT);
  await audit(org, 'dashboard-confirm');
  await org.click('#confirm-yes');
  await viewer.locator('#prompt[open]').waitFor(WAIT);
  const a = await viewer.evaluate(() => {
    const d = document.getElementById('prompt');
    const text = (id) => (id ? document.getElementById(id)?.textContent.trim() : '');
    return {
      role: d.getAttribute('role') || d.tagName.toLowerCase(),
      modal: d.matches(':modal'),
      name: text(d.getAttribute('aria-labelledby')),
      description: text(d.getAttribute('aria-describedby')),
      focusInside: d.contains(document.activeElement),
      messageRole: document.getElementById('prompt-msg')?.getAttribute('role'),
      status: document.getElementById('status')?.getAttribute('aria-live'),
    };
  });
  check(a.role === 'alertdialog', `the prompt is an alertdialog, announced at once (${a.role})`);
  check(a.modal, 'the prompt is modal: the page behind it is inert');
  check(a.name.length > 0, `the prompt is named by its heading («${a.name}»)`);
  check(a.description.length > 0, `the prompt is described by its question («${a.description}»)`);
  check(a.focusInside, 'the focus moves into the prompt');
  check(a.messageRole === 'alert', 'a refused answer is read out (role=alert)');
  check(a.status === 'polite', 'the status line is a polite live region');
  await audit(viewer, 'player-prompt');

  // ---- Another tab in hall 2 pauses this one ----
  const second = await viewer.context().newPage();
  await second.goto(`${link}&hall=hall-2`);
  await viewer.locator('#paused').waitFor({ state: 'visible', ...WAIT });
  await audit(viewer, 'player-paused');
  await second.close();

  // ---- The viewer's evidence on the dashboard ----
  await org.fill('#q', 'Смирнова');
  await org.click('#search-form button[type=submit]');
  const found = org.locator('#viewers-body tr', { hasText: 'Смирнова Ольга Викторовна' }).last();
  await found.waitFor(WAIT);
  await found.getByRole('button').first().click();
  await org.locator('#evidence').waitFor({ state: 'visible', ...WAIT });
  await org.locator('#evidence svg').first().waitFor(WAIT);
  await audit(org, 'evidence');
  const tab = await org.context().newPage();
  await tab.goto(`${BASE}/api/org/viewers/nobody/certificate.pdf`);
  await audit(tab, 'api-error-page');
  await tab.close();
  // The forum editor: the list, and the served forum open in the form.
  const editor = await org.context().newPage();
  await editor.goto(`${BASE}/org/forums`);
  await editor.locator('#forum-rows tr').first().getByRole('button', { name: /^Открыть / }).click();
  await editor.locator('#p-session-0-title').waitFor(WAIT);
  await audit(editor, 'forum-editor');
  await editor.close();
  const labels = await org.evaluate(() => {
    const boxes = [...document.querySelectorAll('#evidence svg text.session-label, #evidence svg text.tick-label')]
      .map((t) => t.getBoundingClientRect());
    let overlaps = 0;
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [p, q] = [boxes[i], boxes[j]];
        if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) overlaps++;
      }
    }
    return { count: boxes.length, overlaps };
  });
  check(labels.count > 0 && labels.overlaps === 0, `the timeline's labels do not overlap (${labels.count} labels, ${labels.overlaps} overlaps)`);

  // ---- The focus ring is visible against white: at least 3:1 ----
  await pub.goto(`${BASE}/no-such-page`);
  await pub.keyboard.press('Tab');
  const ring = await pub.evaluate(() => getComputedStyle(document.activeElement).outlineColor);
  const [r, g, b] = ring.match(/\d+/g).map(Number);
  const lum = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  const contrast = 1.05 / (0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b) + 0.05);
  check(contrast >= 3, `the focus ring (${ring}) has ${contrast.toFixed(1)}:1 against white`);
} catch (e) {
  check(false, `a11y stopped: ${e.message.split('\n')[0]}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
