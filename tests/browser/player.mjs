// The player's honest moments in a real browser (issue 10, «Player»), against a running
// `yavka serve` whose forum has sessions going on now in hall-1 and hall-2 and, in hall-3, one
// that ended a few minutes ago and one later today (tests/browser.rs starts one):
//
//   BASE=http://127.0.0.1:8080 ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/player.mjs
//
// 1. A paused tab gets a prompt of its hall: no modal, no notification; its overlay says a
//    confirmation is going on and «Смотреть здесь» is reachable. When the other tab closes the
//    prompt shows; later, «Смотреть здесь» brings the next one up, and both are confirmed.
// 2. The hall whose session ended says so: status «Сессия завершена», the rules' result, when
//    codes come, the next session, a link to the results page.
// 3. A stream that never loads shows «Трансляция не загружается» after the stall time (here
//    1.5 s through `?stall=`), and that time still counts.
// 4. The results page shows the verdicts with their reasons, on a desktop and on a phone.
// Exits non-zero when a check fails. Screenshots of each step go to SCREENSHOTS.

import { createRequire } from 'node:module';
import { registerOverApi } from './mailbox.mjs';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
const LOGIN = process.env.ORG_LOGIN || 'admin';
const PASSWORD = process.env.ORG_PASSWORD || '';
const WAIT = { timeout: 15_000 };
fs.mkdirSync(SHOTS, { recursive: true });

const T0 = Date.now();
const failures = [];
function check(cond, what) {
  console.log(`${((Date.now() - T0) / 1000).toFixed(1)} ${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures.push(what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const scriptErrors = [];
const PHONE = { width: 390, height: 844 };
async function newContext() {
  return browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 860 } });
}
async function open(context, url, name) {
  const page = await context.newPage();
  page.on('pageerror', (e) => scriptErrors.push(`${name}: ${e}`));
  if (url) await page.goto(url);
  return page;
}
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const counting = (page) => page.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

// A background tab: the page sees `document.hidden` and records the notifications it raises.
const HIDDEN_TAB = () => {
  Object.defineProperty(document, 'hidden', { get: () => true });
  Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
  window.__notifications = [];
  window.Notification = class {
    static permission = 'granted';
    static requestPermission() { return Promise.resolve('granted'); }
    constructor(title, options) { window.__notifications.push({ title, ...options }); }
    close() {}
  };
};

async function register(name, email) {
  const { status, link } = await registerOverApi(BASE, { name, email, phone: '+79165551122' });
  check(status === 202 && link, `${name} registers and gets her link by e-mail (${status})`);
  return new URL(link).searchParams.get('token');
}

/** The organiser fires a prompt in `hall`, from a page of the site (so the browser sends Origin). */
async function firePrompt(org, hall) {
  const result = await org.evaluate(async ({ hall, login, password }) => {
    const json = { 'content-type': 'application/json' };
    const signIn = await fetch('/api/org/login', { method: 'POST', headers: json, body: JSON.stringify({ login, password }) });
    const fire = await fetch('/api/org/prompts', { method: 'POST', headers: json, body: JSON.stringify({ hall }) });
    return { signIn: signIn.status, fire: fire.status, body: await fire.json() };
  }, { hall, login: LOGIN, password: PASSWORD });
  check(result.fire === 200, `a prompt is fired in ${hall} (${result.signIn}/${result.fire})`);
  return result.body;
}

async function answer(page) {
  const ask = (await page.textContent('#prompt-ask strong')).trim();
  await page.locator('#prompt-answers button').filter({ hasText: new RegExp(`^${ask}$`) }).click();
  await page.locator('#prompt-msg', { hasText: 'подтверждено' }).waitFor(WAIT);
}

try {
  const token = await register('Соколова Вера Андреевна', 'vera.sokolova@example.org');
  const link = `${BASE}/watch?token=${token}`;
  const viewer = await newContext();
  const org = await open(await newContext(), `${BASE}/verify`, 'organiser');

  // ---- 1. A paused tab is never trapped by a prompt ----
  const first = await viewer.newPage();
  first.on('pageerror', (e) => scriptErrors.push(`first tab: ${e}`));
  await first.addInitScript(HIDDEN_TAB);
  await first.goto(`${link}&hall=hall-2`);
  await counting(first);
  const second = await open(viewer, `${link}&hall=hall-1`, 'second tab');
  await counting(second);
  await first.locator('#paused').waitFor({ state: 'visible', ...WAIT });

  const p1 = await firePrompt(org, 'hall-2');
  await first.locator(`#paused-text[data-prompt="${p1.id}"]`).waitFor({ state: 'attached', ...WAIT });
  check(!(await first.locator('#prompt').evaluate((d) => d.open)), 'the paused tab does not open the prompt');
  check((await first.textContent('#paused-text')).includes('идёт подтверждение участия'), `the overlay says a confirmation is going on here: «${await first.textContent('#paused-text')}»`);
  check((await first.evaluate(() => window.__notifications.length)) === 0, 'the paused tab raises no notification');
  check(!(await first.title()).includes('❗'), 'the paused tab does not blink its title');
  await shot(first, 'player-paused-prompt');

  // The other tab closes: this one is active again and the prompt, still open, shows.
  await second.close();
  await first.locator('#prompt[open]').waitFor(WAIT);
  check(await first.isHidden('#paused'), 'when the other tab closes the overlay goes and the prompt shows');
  await answer(first);
  await first.locator('#t-confirmed', { hasText: '1' }).waitFor(WAIT);
  check(true, 'the prompt answered after the pause counts');

  // Paused again by a newer tab; the next prompt is held until «Смотреть здесь».
  const third = await open(viewer, `${link}&hall=hall-1`, 'third tab');
  await counting(third);
  await first.locator('#paused').waitFor({ state: 'visible', ...WAIT });
  await first.locator('#prompt').waitFor({ state: 'hidden', ...WAIT });
  const p2 = await firePrompt(org, 'hall-2');
  await first.locator(`#paused-text[data-prompt="${p2.id}"]`).waitFor({ state: 'attached', ...WAIT });
  check(!(await first.locator('#prompt').evaluate((d) => d.open)), 'the second prompt is held too');
  await first.click('#watch-here', { timeout: 2_000 });
  await first.locator('#prompt[open]').waitFor(WAIT);
  await counting(first);
  check(true, '«Смотреть здесь» is clickable and brings the open prompt up');
  await answer(first);
  await first.locator('#t-confirmed', { hasText: '2' }).waitFor(WAIT);
  await third.locator('#paused').waitFor({ state: 'visible', ...WAIT });
  check(true, 'both prompts confirmed; the newer tab is the paused one now');
  await third.close();

  // ---- 2. The hall whose session has ended tells the truth ----
  const ended = await open(viewer, `${link}&hall=hall-3`, 'ended hall');
  await ended.locator('#status[data-state=over]').waitFor({ state: 'attached', ...WAIT });
  const status = await ended.textContent('#status-text');
  check(status.includes('Сессия завершена') && status.includes('Следующая начнётся'), `the status line says the session is over and when the next starts: «${status}»`);
  await ended.locator('#after').waitFor({ state: 'visible', ...WAIT });
  await ended.locator('#after-verdict', { hasText: 'Засчитанного времени в этой сессии нет' }).waitFor(WAIT);
  check(true, 'the result comes from the rules: nothing was counted in the ended session');
  check((await ended.textContent('#after-codes-note')).includes('1–2 месяцев'), 'it says when and how codes come');
  check((await ended.textContent('#after-next')).includes('Следующая сессия в этом зале'), 'it says when the next session starts');
  check((await ended.getAttribute('#after-link', 'href')) === `/my?token=${token}`, 'it links to the results page');
  check(await ended.isHidden('#tally-body'), 'no running numbers for an ended session');
  await shot(ended, 'player-ended');
  await ended.setViewportSize(PHONE); // the same page on a phone's width: no second load
  check(await overflow(ended) <= 0, 'the ended-session panel fits a phone');
  await shot(ended, 'player-ended-phone');

  // ---- 3. A stream that never loads says so, and that time still counts ----
  const stream = await open(viewer, null, 'stream');
  await stream.route('**/*.m3u8', () => {}); // never answered: the spinner would spin forever
  await stream.goto(`${link}&hall=hall-2&stall=1500`);
  await counting(stream);
  await stream.locator('#video-trouble').waitFor({ state: 'visible', ...WAIT });
  check((await stream.textContent('#video-trouble')).includes('Трансляция не загружается. Пробуем снова…'), 'a stream that does not load is said so');
  check(await stream.isVisible('#video-counts'), 'and the viewer is told time still counts');
  check(/Следующая попытка через \d+ с/.test(await stream.textContent('#video-retry')), 'with the time of the next try');
  await shot(stream, 'player-stream');

  // ---- 4. Her own results page ----
  const my = await open(viewer, `${BASE}/my?token=${token}`, 'results');
  await my.locator('#results').waitFor({ state: 'visible', ...WAIT });
  const live = my.locator('[data-session="live-2"]');
  check((await live.locator('.verdict').textContent()).includes('пока не выполнены'), 'the hall-2 session shows the verdict so far');
  check(await live.locator('.reasons li').count() >= 3, 'with the rules\' reasons');
  check((await my.locator('[data-session="ended-3"] .verdict').textContent()).includes('нет'), 'the ended session says nothing was counted');
  check((await my.textContent('#codes-note')).includes('1–2 месяцев'), 'the results page says when codes come');
  await shot(my, 'my-results');
  await my.setViewportSize(PHONE);
  check(await overflow(my) <= 0, 'the results page fits a phone');
  await shot(my, 'my-results-phone');
  await my.goto(`${BASE}/my?token=nope`);
  await my.locator('#load-status[data-kind=error]').waitFor(WAIT);
  check((await my.textContent('#load-status')).includes('Ссылка недействительна'), 'a wrong link gets a clear message');
} catch (e) {
  check(false, `player story stopped: ${e.message.split('\n')[0]}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
