// «Я был на трансляции, а кода нет» in a real browser: a doctor files an appeal on her results
// page about the hall-3 session that ended a few minutes ago, the organiser answers it in the
// dashboard's «Обращения», and the doctor sees the answer. Both pages pass axe-core at each
// step, and the viewer's page fits a phone.
//
//   BASE=http://127.0.0.1:8080 MAILBOX=… ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/appeal.mjs
//
// Exits non-zero when a check fails. Screenshots of each step go to SCREENSHOTS.

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
const PHONE = { width: 390, height: 844 };
fs.mkdirSync(SHOTS, { recursive: true });

const failures = [];
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

async function audit(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `${name}: no serious or critical axe violations${said.length ? `:\n    ${said.join('\n    ')}` : ''}`);
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
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
// The dashboard is long: its pictures show the part on screen.
const view = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

const TEXT = 'Я смотрела всю сессию в зале №3, но страница не открывалась: писала в чат поддержки в 10:15.';
const REASON = 'Сбой площадки подтверждён: в это время зал №3 не отдавал трансляцию.';

try {
  const { status, link } = await registerOverApi(BASE, { name: 'Сидорова Ольга Ивановна', email: 'olga-appeal@example.org', phone: '+79165551133' });
  check(status === 202 && link, `Olga registers and gets her link (${status})`);
  const token = new URL(link).searchParams.get('token');
  const my = `${BASE}/my?token=${token}`;

  // ---- 1. The viewer files an appeal about the session that ended ----
  const viewer = await newPage('my');
  await viewer.goto(my);
  const card = viewer.locator('article[data-session="ended-3"]');
  await card.waitFor(WAIT);
  const file = card.getByRole('button', { name: 'Подать обращение' });
  check(await file.isVisible(), 'the ended session that does not count offers «Подать обращение»');
  check(await viewer.locator('article[data-session="later-3"]').getByRole('button', { name: 'Подать обращение' }).count() === 0,
    'a session still ahead offers none');
  await file.click();
  const area = card.getByLabel('Обращение по сессии «Завершённая сессия»');
  check(await area.evaluate((n) => n === document.activeElement), 'the form opens with the focus in its text');
  await card.getByRole('button', { name: 'Отправить обращение' }).click();
  const refused = card.locator('.appeal-form [role=status]');
  await refused.waitFor({ state: 'visible', ...WAIT });
  check((await refused.textContent()).startsWith('Напишите, что произошло'), `an empty appeal is refused in Russian: «${await refused.textContent()}»`);
  await audit(viewer, 'my-appeal-form');
  await shot(viewer, 'my-appeal-form');
  await area.fill(TEXT);
  await card.getByRole('button', { name: 'Отправить обращение' }).click();
  await card.getByText('Ваше обращение ждёт ответа организатора.').waitFor(WAIT);
  check((await card.locator('.appeal-text').textContent()) === TEXT, 'her text is shown as sent');
  check(await card.getByRole('button', { name: 'Подать обращение' }).count() === 0, 'no second appeal is offered');
  await audit(viewer, 'my-appeal-open');
  await shot(viewer, 'my-appeal-open');

  // ---- 2. The organiser answers in «Обращения» ----
  const signIn = async (name, viewport) => {
    const page = await newPage(name, viewport);
    await page.goto(`${BASE}/org`);
    await page.locator('#login').waitFor({ state: 'visible', ...WAIT });
    await page.fill('#login-name', LOGIN);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.locator('#dash').waitFor({ state: 'visible', ...WAIT });
    return page;
  };
  const org = await signIn('org');
  const item = org.locator('#appeals-list article[data-state="open"]', { hasText: 'Сидорова Ольга Ивановна' });
  await item.waitFor(WAIT);
  check((await item.locator('.appeal-text').textContent()) === TEXT, 'the queue shows her text');
  check(await item.getByRole('link', { name: 'Отчёт о присутствии' }).count() === 1, 'the evidence report is beside it');
  check((await item.textContent()).includes('нет засчитанного времени'), 'and the rules\' verdict');
  await org.locator('#appeals').evaluate((n) => n.scrollIntoView({ block: 'start' }));
  await view(org, 'dashboard-appeals');
  const orgPhone = await signIn('org-phone', PHONE);
  const phoneItem = orgPhone.locator('#appeals-list article[data-state="open"]', { hasText: 'Сидорова Ольга Ивановна' });
  await phoneItem.waitFor(WAIT);
  await orgPhone.locator('#appeals').evaluate((n) => n.scrollIntoView({ block: 'start' }));
  check(await overflow(orgPhone) <= 0, 'the queue fits a 390 px phone');
  await view(orgPhone, 'dashboard-appeals-phone');
  await audit(org, 'dashboard-appeals');
  await item.getByRole('button', { name: 'Ответить' }).click();
  const dialog = org.locator('#decide-dialog');
  await dialog.waitFor({ state: 'visible', ...WAIT });
  await org.getByLabel('Засчитать сессию').check();
  await org.click('#decide-send');
  const said = await org.locator('#decide-status').textContent();
  check(said.startsWith('Укажите причину'), `an answer without a reason is refused: «${said}»`);
  await org.fill('#decide-reason', REASON);
  await audit(org, 'dashboard-appeal-dialog');
  await view(org, 'dashboard-appeal-dialog');
  await org.click('#decide-send');
  await dialog.waitFor({ state: 'hidden', ...WAIT });
  const answered = org.locator('#appeals-list article[data-state="answered"]', { hasText: 'Сидорова Ольга Ивановна' });
  await answered.waitFor(WAIT);
  check((await answered.textContent()).includes(REASON), 'the queue shows the answer with its reason');

  // ---- 3. The viewer sees the answer ----
  await viewer.reload();
  await card.getByText('Ответ на ваше обращение: сессия засчитана.').waitFor(WAIT);
  check((await card.textContent()).includes(REASON), 'she reads the reason');
  check(await card.locator('.decision').count() === 0, 'the decision that answers her appeal is said once, in the answer');
  check(await card.getByRole('button', { name: /обращени/ }).count() === 0, 'nothing left to file or edit');
  await audit(viewer, 'my-appeal-answered');
  await shot(viewer, 'my-appeal-answered');
  const phone = await newPage('my-phone', PHONE);
  await phone.goto(my);
  await phone.locator('article[data-session="ended-3"] .appeal-answer').waitFor(WAIT);
  check(await overflow(phone) <= 0, 'the answered appeal fits a 390 px phone');
  await audit(phone, 'my-appeal-answered-phone');
  await shot(phone, 'my-appeal-answered-phone');
} catch (e) {
  check(false, `appeal stopped: ${e.message.split('\n')[0]}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
