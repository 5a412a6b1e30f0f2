// The forum editor (/org/forums) in a real browser against a running `yavka serve`
// (tests/browser.rs starts it):
//
//   BASE=http://127.0.0.1:8080 ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/editor.mjs
//
// The administrator follows the dashboard's link to «Форумы», starts a new forum, gives its
// hall a stream address and adds a session whose audience she finds in the catalogue by
// typing part of a name. She asks for more minutes than the session lasts: saving shows the
// validator's message beside «Минимум присутствия», marks the field, and saves nothing. She
// takes the suggested ЗЕТ × 45, saves (a draft, with the programme previewed as viewers will
// see it), and opens registration from the list. A cardiologist registers for that forum on
// its own page and opens the player from her letter, on a computer and on her phone. The
// stream breaks: the administrator types the backup address into the hall, renames it and
// saves, and both open players switch to it without a reload, saying so, and call the hall by
// its new name in the tabs and the programme. On the dashboard, with two forums
// running, a select in the header switches between them. At 390 px the editor fits the screen.
// axe-core finds no serious or critical violation, with problems shown and without.
// Desktop and phone screenshots.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const AXE = require.resolve('axe-core/axe.min.js');
import { linkFromMail } from './mailbox.mjs';

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
const LOGIN = process.env.ORG_LOGIN || 'admin';
const PASSWORD = process.env.ORG_PASSWORD || '';
const WAIT = { timeout: 15_000 };
const ID = `autumn-${Date.now() % 100000}`;
const BACKUP = 'https://example.org/autumn-backup';
const RENAMED = 'Большой зал';
const DOCTOR = `kardio-${Date.now() % 100000}@example.org`;
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
const shot = (page, name, fullPage = true) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });

async function signIn(viewport) {
  const context = await browser.newContext({ locale: 'ru-RU', viewport, isMobile: viewport.width < 500 });
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

async function audit(page, name) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const said = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  check(bad.length === 0, `${name}: no serious or critical axe violations${said.length ? `:\n    ${said.join('\n    ')}` : ''}`);
}

const listed = (page) => page.evaluate(async () =>
  (await (await fetch('/api/org/forums', { headers: { accept: 'application/json' } })).json()).forums);

try {
  const org = await signIn({ width: 1366, height: 900 });
  await org.click('a[href="/org/forums"]');
  await org.locator('#forums').waitFor({ state: 'visible', ...WAIT });
  await org.click('#new-forum');
  await org.fill('#p-forum-id', ID);
  await org.fill('#p-forum-title', 'Осенний форум кардиологов');
  await org.fill('#p-hall-0-stream_url', 'https://example.org/autumn.m3u8');
  await org.click('text=Добавить сессию');
  await org.fill('#p-session-0-title', 'Кардиология сегодня');
  await org.fill('#p-session-0-day', '2031-10-05');
  await org.fill('#p-session-0-starts', '10:00');
  await org.fill('#p-session-0-ends', '12:00');
  await org.fill('#p-session-0-credits', '2');
  await org.fill('#p-session-0-min_minutes', '200');
  await org.fill('#p-session-0-audience-higher', 'кардиол');
  await org.click('#p-session-0-audience-higher-found button:text-is("кардиология")');
  check(await org.isVisible('button[aria-label="Убрать кардиология"]'), 'the specialty found by search is chosen');

  // Too many minutes: the message stands beside the field; nothing is saved.
  await org.click('#save');
  const error = org.locator('#p-session-0-min_minutes-error');
  await error.filter({ hasText: 'Минимум' }).waitFor(WAIT);
  const said = await error.textContent();
  check(/Минимум 200 мин больше учитываемой части окна: 120 мин/.test(said), `the minimum's problem is beside it («${said}»)`);
  const describedBy = await org.getAttribute('#p-session-0-min_minutes', 'aria-describedby');
  check(describedBy.includes('p-session-0-min_minutes-error'), 'the field is described by its problem');
  check(await org.getAttribute('#p-session-0-min_minutes', 'aria-invalid') === 'true', 'the field is marked invalid');
  check(!(await listed(org)).some((f) => f.id === ID), 'nothing was saved while invalid');
  await org.evaluate(() => document.getElementById('p-session-0-min_minutes').scrollIntoView({ block: 'center' }));
  await shot(org, 'editor-problem', false);
  await audit(org, 'editor-problem');

  // The suggested ЗЕТ × 45 fits; saved as a draft, previewed as viewers will see it.
  await org.click('text=Подставить ЗЕТ × 45');
  check(await org.inputValue('#p-session-0-min_minutes') === '90', 'ЗЕТ × 45 = 90 is suggested');
  await org.click('#save');
  await org.locator('#editor-status', { hasText: 'создан черновик' }).waitFor(WAIT);
  check(await org.isVisible('#preview .session'), 'the programme is previewed');
  check((await org.textContent('#preview')).includes('10:00–12:00'), 'the preview shows the session\'s time');
  check(await org.isVisible('#versions li'), 'version 1 is listed');
  await org.evaluate(() => document.getElementById('preview-card').scrollIntoView({ block: 'center' }));
  await shot(org, 'editor-saved', false);
  await audit(org, 'editor-saved');

  // Registration opened from the list.
  const row = org.locator('#forum-rows tr', { hasText: ID });
  await row.locator('text=Открыть регистрацию').click();
  await org.locator('#forum-rows tr', { hasText: ID }).filter({ hasText: 'Регистрация открыта' }).waitFor(WAIT);
  const state = (await listed(org)).find((f) => f.id === ID)?.state;
  check(state === 'registration', `registration is open (${state})`);
  const kept = (await org.locator('#forum-rows tr', { hasText: ID }).locator('td.retention').textContent()).trim();
  check(/^хранятся до \d\d\.\d\d\.\d{4} \(6 лет после последней сессии\)$/.test(kept), `the list says until when its personal data is kept («${kept}»)`);
  await org.evaluate(() => window.scrollTo(0, 0));
  await shot(org, 'editor-list', false);

  // Published, it runs beside the live forum at once: its own page, `/?forum=ID`, shows its
  // programme and registration (every request of the page names the forum).
  const visitor = await (await browser.newContext({ locale: 'ru-RU' })).newPage();
  visitor.on('pageerror', (e) => scriptErrors.push(e.message));
  await visitor.goto(`${BASE}/?forum=${ID}`);
  await visitor.locator('#forum-title', { hasText: 'Осенний форум кардиологов' }).waitFor(WAIT);
  await visitor.locator('#reg-form').waitFor({ state: 'visible', ...WAIT });
  check(true, 'the published forum has its own page with its registration form');

  // A cardiologist registers for THIS forum on its page and opens the player from her letter,
  // on her computer and on her phone (a phone tab in the same hall pauses nothing).
  await visitor.fill('#name', 'Кузнецова Ольга Викторовна');
  await visitor.fill('#email', DOCTOR);
  await visitor.fill('#phone', '+7 916 555-77-88');
  await visitor.check('input[name=education][value=higher]');
  await visitor.fill('#specialty-search', 'кардиол');
  await visitor.selectOption('#specialty', { label: 'кардиология' });
  await visitor.check('#consent_personal_data');
  await visitor.check('#consent_terms');
  await visitor.click('#submit');
  await visitor.locator('#reg-done').waitFor({ state: 'visible', ...WAIT });
  const link = await linkFromMail(DOCTOR);
  const players = [];
  for (const [name, viewport] of [['desktop', { width: 1280, height: 860 }], ['phone', { width: 390, height: 844 }]]) {
    const player = await (await browser.newContext({ locale: 'ru-RU', viewport, isMobile: viewport.width < 500 })).newPage();
    player.on('pageerror', (e) => scriptErrors.push(`player ${name}: ${e}`));
    await player.goto(link);
    await player.locator('#forum-title', { hasText: 'Осенний форум кардиологов' }).waitFor(WAIT);
    await player.locator('#status-text', { hasText: 'На связи' }).waitFor(WAIT);
    await player.locator('#video > *').first().waitFor({ state: 'attached', ...WAIT });
    // Set once per page load: still there afterwards means the page was not reloaded.
    await player.evaluate(() => { window.__sameLoad = true; });
    players.push([name, player]);
  }
  check(true, 'the doctor registered for the new forum watches its hall on two devices');
  await visitor.context().close();

  // The stream breaks; the administrator gives the hall its backup address and saves.
  // Opening draws the form again once checked, then lists the versions: wait for the last.
  const opened = org.waitForResponse((r) => r.url().includes(`/api/org/forums/${ID}/versions`));
  await org.locator('#forum-rows tr', { hasText: ID }).locator('button', { hasText: 'Открыть' }).first().click();
  await opened;
  await org.locator('#p-hall-0-stream_url').waitFor(WAIT);
  await org.fill('#p-hall-0-stream_url', BACKUP);
  await org.fill('#p-hall-0-title', RENAMED);
  await org.click('#save');
  await org.locator('#editor-status[data-kind=ok], #editor-status[data-kind=error]').waitFor(WAIT);
  const saved = await org.textContent('#editor-status');
  check(saved.startsWith('Сохранена версия 2'), `the backup address is saved as version 2 («${saved}»)`);
  for (const [name, player] of players) {
    await player.locator(`#video iframe[src="${BACKUP}"]`).waitFor(WAIT);
    check(await player.locator('#video video').count() === 0, `${name}: the broken stream's video is gone`);
    check(await player.evaluate(() => window.__sameLoad === true), `${name}: the player switched without a reload`);
    const note = (await player.textContent('#video-switched')).trim();
    check(note === 'Трансляция переключена на новый адрес.', `${name}: the viewer is told («${note}»)`);
    check((await player.textContent('#status-text')).includes('На связи'), `${name}: still connected`);
    const tabs = await player.textContent('#hall-tabs');
    check(tabs.includes(RENAMED), `${name}: the hall's tab has its new title («${tabs}»)`);
    const heads = await player.locator('#programme h4').allTextContents();
    check(heads.length > 0 && heads.every((h) => h === RENAMED), `${name}: the programme names the hall anew (${heads.join(', ')})`);
    await player.locator('#video-switched').scrollIntoViewIfNeeded();
    await shot(player, `player-stream-switched-${name}`, false);
    await audit(player, `player-stream-switched-${name}`);
  }
  for (const [, player] of players) await player.context().close();

  // Two forums run now: the dashboard's header lets the administrator choose which one it shows.
  await org.goto(`${BASE}/org`);
  await org.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  await org.locator('#forum-pick-wrap').waitFor({ state: 'visible', ...WAIT });
  const choices = await org.locator('#forum-pick option').evaluateAll((os) => os.map((o) => o.value));
  check(choices.length >= 2 && choices.includes(ID), `the header offers the running forums (${choices.join(', ')})`);
  await Promise.all([org.waitForURL(`**/org?forum=${ID}`), org.selectOption('#forum-pick', ID)]);
  await org.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  await org.locator('#forum-pick-wrap').waitFor({ state: 'visible', ...WAIT });
  check(await org.inputValue('#forum-pick') === ID, 'the chosen forum stays chosen after the reload');
  check((await org.textContent('#session')).includes('Кардиология сегодня'), 'the dashboard shows the chosen forum\'s sessions');
  check((await org.getAttribute('#results-csv', 'href')).includes(`forum=${ID}`), 'its downloads name the forum');
  await shot(org, 'dashboard-forum-pick', false);
  await audit(org, 'dashboard-forum-pick');
  const small = await signIn({ width: 390, height: 844 });
  await small.locator('#forum-pick-wrap').waitFor({ state: 'visible', ...WAIT });
  const wide = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(wide <= 0, `the forum select fits a phone's width (overflow ${wide}px)`);
  await shot(small, 'dashboard-forum-pick-phone', false);
  await small.context().close();

  // A phone: the list and the form fit the screen.
  const phone = await signIn({ width: 390, height: 844 });
  await phone.goto(`${BASE}/org/forums`);
  await phone.locator('#forums').waitFor({ state: 'visible', ...WAIT });
  await phone.locator('#forum-rows tr', { hasText: ID }).waitFor(WAIT);
  await shot(phone, 'editor-phone-list', false);
  await phone.locator('#forum-rows tr', { hasText: ID }).locator('button', { hasText: 'Открыть' }).first().click();
  await phone.locator('#p-session-0-title').waitFor(WAIT);
  // Opening draws the form again once checked, then lists the versions: wait for the last.
  await phone.locator('#versions li').first().waitFor(WAIT);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the editor fits a phone's width (overflow ${overflow}px)`);
  await phone.locator('#p-session-0-title').scrollIntoViewIfNeeded();
  await shot(phone, 'editor-phone', false);
  await audit(phone, 'editor-phone');
} catch (e) {
  check(false, `editor stopped: ${e.message.split('\n').slice(0, 3).join(' ')}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
