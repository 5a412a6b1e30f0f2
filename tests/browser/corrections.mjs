// «Поправки к сессиям» on the organiser's dashboard, in a real browser against a running
// `yavka serve` (tests/browser.rs starts it; session `ended-3` of hall 3 ended two minutes
// before):
//
//   BASE=http://127.0.0.1:8080 ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/corrections.mjs
//
// The administrator chooses the finished session and a stretch of time not to count; without
// a reason the field says so; with one, the preview says whose verdicts would change (nobody's
// here: nobody watched it). Saving asks in the page's own dialog; Esc saves nothing; confirming
// saves it, and the list of corrections shows it in the rules' words. At 390 px the section
// fits the screen. axe-core finds no serious or critical violation in any of these states.
// Desktop and phone screenshots.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

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

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const scriptErrors = [];
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

async function signIn(viewport) {
  const context = await browser.newContext({ locale: 'ru-RU', viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => scriptErrors.push(`${viewport.width}px: ${e}`));
  await page.goto(`${BASE}/org`);
  await page.locator('#login').waitFor({ state: 'visible', ...WAIT });
  await page.fill('#login-name', LOGIN);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  return page;
}

/** axe-core over the page as it is now (as a11y.mjs runs it): no serious or critical violation. */
async function audit(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `${name}: no serious or critical axe violations${said.length ? `:\n    ${said.join('\n    ')}` : ''}`);
}

const saved = (page) => page.evaluate(async () =>
  (await (await fetch('/api/org/corrections', { headers: { accept: 'application/json' } })).json()).corrections.length);

try {
  const org = await signIn({ width: 1366, height: 900 });
  await org.locator('#correction-session option[value="ended-3"]').waitFor({ state: 'attached', ...WAIT });
  const before = await saved(org);
  await org.selectOption('#correction-session', 'ended-3');
  const option = await org.textContent('#correction-session option:checked');
  check(/^\d\d\.\d\d\.\d{4} \d\d:\d\d–\d\d:\d\d · Зал №3 · Завершённая сессия/.test(option), `the finished session is offered («${option}»)`);
  await org.check('input[name="correction-change"][value="exclude"]');
  check(await org.isVisible('#correction-from') && !(await org.isVisible('#correction-prompt')), 'a time range replaces the prompt choice');
  const from = await org.inputValue('#correction-from');
  const to = await org.inputValue('#correction-to');
  check(/^\d\d:\d\d$/.test(from) && /^\d\d:\d\d$/.test(to), `the range starts as the session's window (${from}–${to})`);
  // Ten minutes from the start: an outage.
  const [h, m] = from.split(':').map(Number);
  const later = (h * 60 + m + 10) % (24 * 60);
  const outageEnd = `${String(Math.floor(later / 60)).padStart(2, '0')}:${String(later % 60).padStart(2, '0')}`;
  await org.fill('#correction-to', outageEnd);

  // No reason: the field says so, nothing is previewed.
  await org.locator('#corrections').scrollIntoViewIfNeeded();
  await org.click('#correction-preview');
  await org.locator('#err-correction-reason:not(:empty)').waitFor(WAIT);
  check((await org.textContent('#err-correction-reason')) === 'Укажите причину поправки.', 'a missing reason is named at its field');
  check(!(await org.isVisible('#correction-preview-box')), 'nothing is previewed');

  await org.fill('#correction-reason', 'Сбой трансляции в зале №3');
  await org.click('#correction-preview');
  await org.locator('#correction-preview-box:not([hidden])').waitFor(WAIT);
  const counts = await org.textContent('#correction-counts');
  check(counts === 'Итоги никого не изменятся.', `the preview says whose verdicts change («${counts}»)`);
  check(await org.textContent('#err-correction-reason') === '', 'the error is gone');
  await org.locator('#corrections').evaluate((n) => n.scrollIntoView());
  await shot(org, 'corrections-preview');
  await audit(org, 'corrections-preview');

  // Saving asks first; Esc saves nothing.
  await org.click('#correction-save');
  await org.locator('#confirm-dialog[open]').waitFor(WAIT);
  check((await org.textContent('#confirm-title')) === 'Сохранить поправку?', 'saving asks in the page\'s dialog');
  check((await org.textContent('#confirm-yes')) === 'Сохранить поправку', 'its button says what it does');
  check(await org.evaluate(() => document.activeElement?.id) === 'confirm-no', 'focus starts on «Отмена»');
  await shot(org, 'corrections-dialog');
  await audit(org, 'corrections-dialog');
  await org.keyboard.press('Escape');
  await org.locator('#confirm-dialog[open]').waitFor({ state: 'detached', ...WAIT });
  check(await saved(org) === before, 'Esc saves nothing');

  await org.click('#correction-save');
  await org.locator('#confirm-dialog[open]').waitFor(WAIT);
  await org.click('#confirm-yes');
  await org.locator('#correction-status', { hasText: 'Сохранено. Поправка от ' }).waitFor(WAIT);
  check(await saved(org) === before + 1, 'confirming saves it');
  const item = org.locator('#corrections-list li', { hasText: 'Завершённая сессия' });
  await item.waitFor(WAIT);
  const words = await item.textContent();
  check(words.includes(`время ${from}–${outageEnd} не засчитывается`) && words.includes('причина: Сбой трансляции в зале №3'),
    `the list shows it in the rules' words («${words.trim()}»)`);
  check(!(await org.isVisible('#correction-preview-box')), 'the preview is put away');
  await org.locator('#corrections').evaluate((n) => n.scrollIntoView());
  await shot(org, 'corrections-saved');
  await audit(org, 'corrections-saved');

  // A phone.
  const phone = await signIn({ width: 390, height: 844 });
  await phone.locator('#corrections-list li').first().waitFor(WAIT);
  await phone.locator('#corrections').evaluate((n) => n.scrollIntoView());
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the section fits a phone's width (overflow ${overflow}px)`);
  await shot(phone, 'corrections-phone');
  await audit(phone, 'corrections-phone');
} catch (e) {
  check(false, `corrections stopped: ${e.message.split('\n')[0]}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
