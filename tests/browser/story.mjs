// The end-to-end story in a real browser, against a running `yavka serve` whose forum has a
// session going on now in hall-1 (tests/browser.rs starts one):
//
//   BASE=http://127.0.0.1:8080 ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/story.mjs
//
// A doctor registers on the front page, is told to check her mail, and opens the player from
// the personal link in the letter (MAILBOX: see mailbox.mjs); a second
// viewer watches the same hall in a background tab. The organiser, in another browser context,
// signs in, sees both viewers live and fires a prompt with the confirmation step. The doctor
// answers it and sees the tally grow; the background tab gets the prompt with a blinking title
// and a system notification; the dashboard counts the confirmation; a second tab in another
// hall pauses the first, which offers to continue there; the evidence trail shows it all.
// Exits non-zero when a check fails. Saves screenshots of each page (desktop and phone).

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { linkFromMail, registerOverApi } from './mailbox.mjs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

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
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});

const scriptErrors = [];
async function newPage(name, options = {}) {
  const context = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1280, height: 860 }, ...options });
  const page = await context.newPage();
  page.on('pageerror', (e) => scriptErrors.push(`${name}: ${e}`));
  return page;
}
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

// A tab the viewer has put in the background: the page sees `document.hidden`, and the
// notifications it raises are recorded (headless Chromium shows none).
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

try {
  // ---- 1. The doctor registers on the front page ----
  const doctor = await newPage('doctor');
  await doctor.goto(`${BASE}/`);
  await doctor.locator('.session').first().waitFor(WAIT);
  await doctor.fill('#name', 'Петрова Анна Сергеевна');
  await doctor.fill('#email', 'anna.petrova@example.org');
  await doctor.fill('#phone', '+7 916 555-12-34');
  await doctor.check('input[name=education][value=higher]');
  await doctor.fill('#specialty-search', 'рентген');
  await doctor.selectOption('#specialty', { label: 'рентгенология' });
  await doctor.locator('#ver-terms', { hasText: 'редакция 1' }).waitFor(WAIT);
  check((await doctor.getAttribute('#link-personal-data', 'href')).startsWith('/texts/personal-data?version='), 'the consent box links to the text it names');
  await doctor.check('#consent_personal_data');
  await doctor.check('#consent_terms');
  await doctor.click('#submit');
  await doctor.locator('#reg-done').waitFor({ state: 'visible', ...WAIT });
  check((await doctor.textContent('#done-email')) === 'anna.petrova@example.org', 'the page says where the letter went');
  check((await doctor.textContent('#done-message')).includes('anna.petrova@example.org'), 'the answer names the address');
  check(await doctor.locator('#personal-link, #open-link').count() === 0, 'the page shows no link: it comes by e-mail');
  await shot(doctor, 'registered');

  // ---- 2. She opens the player from her letter: connected, counting, tally shown ----
  const link = await linkFromMail('anna.petrova@example.org');
  check(/\/watch\?token=[0-9a-f]{48}/.test(link), 'the letter brings a personal link');
  await doctor.goto(link);
  await doctor.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });
  check(await doctor.isVisible('#player'), 'the player opens from the personal link');
  check((await doctor.textContent('#status-text')).includes('засчитывается'), `the status line says time is counted: «${await doctor.textContent('#status-text')}»`);
  await doctor.locator('#tally-body').waitFor({ state: 'visible', ...WAIT });
  const confirmedBefore = Number(await doctor.textContent('#t-confirmed'));
  check(confirmedBefore === 0, 'no confirmations yet');

  // ---- 3. A second viewer watches hall-1 in a background tab ----
  const kozlov = await registerOverApi(BASE, { name: 'Козлов Илья Петрович', email: 'kozlov@example.org', phone: '+79167770011' });
  check(kozlov.status === 202, `a second viewer registers over the API (${kozlov.status})`);
  const background = await newPage('background');
  await background.addInitScript(HIDDEN_TAB);
  await background.goto(`${kozlov.link}&hall=hall-1`);
  await background.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });

  // ---- 4. The organiser signs in and sees both viewers live ----
  const org = await newPage('organiser', { viewport: { width: 1366, height: 900 } });
  await org.goto(`${BASE}/org`);
  await org.locator('#login').waitFor({ state: 'visible', ...WAIT });
  await org.fill('#login-name', LOGIN);
  await org.fill('#login-password', 'wrong-password');
  await org.click('#login-submit');
  await org.locator('#login-status:not([hidden])').waitFor(WAIT);
  check(await org.isHidden('#dash'), 'a wrong password does not open the dashboard');
  await org.fill('#login-password', PASSWORD);
  await org.click('#login-submit');
  await org.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  const hall1 = org.locator('.hall-stat').first();
  await hall1.locator('.big-number', { hasText: /^2$/ }).waitFor(WAIT);
  check(true, 'the dashboard shows 2 viewers live in hall-1');

  // ---- 5. The organiser fires a prompt, with the confirmation step ----
  await hall1.getByRole('button', { name: 'Запросить подтверждение сейчас' }).click();
  await org.locator('#confirm-dialog[open]').waitFor(WAIT);
  check((await org.textContent('#confirm-text')).includes('Зал №1'), 'firing asks for confirmation naming the hall');
  await org.click('#confirm-yes');
  await org.locator('#live-status', { hasText: 'Окно подтверждения отправлено' }).waitFor(WAIT);

  // ---- 6. The doctor answers it; the tally grows ----
  await doctor.locator('#prompt[open]').waitFor(WAIT);
  const ask = (await doctor.textContent('#prompt-ask strong')).trim();
  const buttons = doctor.locator('#prompt-answers button');
  check(await buttons.count() >= 2, 'the prompt offers several answers, not one button');
  await shot(doctor, 'player-prompt');
  const wrong = (await buttons.allTextContents()).find((t) => t.trim() !== ask);
  await buttons.filter({ hasText: new RegExp(`^${wrong}$`) }).click();
  await doctor.locator('#prompt-msg', { hasText: 'неверный' }).waitFor(WAIT);
  check(true, 'a wrong answer is refused with a message and the prompt stays open');
  await buttons.filter({ hasText: new RegExp(`^${ask}$`) }).click();
  await doctor.locator('#t-confirmed', { hasText: String(confirmedBefore + 1) }).waitFor(WAIT);
  check(true, 'after the right answer the tally shows one more confirmation');
  await doctor.locator('#prompt').waitFor({ state: 'hidden', ...WAIT });
  await doctor.locator('#tally-prompts li .status.confirmed', { hasText: /^Подтверждено в \d\d:\d\d:\d\d$/ }).waitFor(WAIT);
  check(true, 'the tally lists the prompt with the status the rules gave it');
  await shot(doctor, 'player');

  // ---- 7. The background tab got the prompt and called for attention ----
  await background.locator('#prompt[open]').waitFor(WAIT);
  check(true, 'the hidden tab shows the prompt too');
  const notes = await background.evaluate(() => window.__notifications);
  check(notes.length === 1 && notes[0].title === 'Подтвердите участие', `the hidden tab raised a system notification (${JSON.stringify(notes)})`);
  const titles = new Set();
  for (let i = 0; i < 12; i++) { titles.add(await background.title()); await background.waitForTimeout(250); }
  check(titles.size >= 2, `the hidden tab's title blinks (${[...titles].join(' | ')})`);

  // ---- 8. The dashboard counts the confirmation ----
  await org.locator('#prompts-body tr', { hasText: '50%' }).waitFor(WAIT);
  const row = (await org.locator('#prompts-body tr').first().locator('td').allTextContents()).map((t) => t.trim());
  check(row[2] === '2' && row[3] === '1', `the prompt row says shown to 2, confirmed by 1 (${row.join(' | ')})`);
  await shot(org, 'dashboard');

  // ---- 8b. She opens hall 2 in a second tab: the first pauses and offers to continue ----
  const second = await doctor.context().newPage();
  second.on('pageerror', (e) => scriptErrors.push(`second tab: ${e}`));
  await second.goto(`${link}&hall=hall-2`);
  await second.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });
  await doctor.locator('#paused').waitFor({ state: 'visible', ...WAIT });
  check((await doctor.textContent('#paused-h')).includes('Зал №2'), 'the older tab says where she is watching now');
  check((await doctor.getAttribute('#status', 'data-state')) === 'idle', 'the older tab says its time is not counted');
  await shot(doctor, 'player-paused');
  await doctor.click('#watch-here');
  await doctor.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });
  await second.locator('#paused').waitFor({ state: 'visible', ...WAIT });
  check(true, '«Смотреть здесь» moves the counting back, and the other tab pauses');
  await second.close();

  // ---- 9. The organiser finds the doctor and opens her evidence trail ----
  await org.fill('#q', 'Петрова');
  await org.click('#search-form button[type=submit]');
  const found = org.locator('#viewers-body tr', { hasText: 'Петрова Анна Сергеевна' });
  await found.waitFor(WAIT);
  await found.getByRole('button').first().click();
  await org.locator('#evidence').waitFor({ state: 'visible', ...WAIT });
  await org.locator('#evidence-body .status.confirmed', { hasText: /^Подтверждено в \d\d:\d\d:\d\d$/ }).waitFor(WAIT);
  check(true, 'the evidence trail shows the confirmed prompt in the rules\' words');
  const conditions = await org.locator('#evidence-body ul.checks li').evaluateAll((items) => items.map((li) => `${li.className}:${li.textContent}`));
  check(conditions.some((c) => c.startsWith('ok:✓') && c.includes('Специальность')) && conditions.some((c) => c.includes('Подтверждено 1 из 1 показанных')),
    `met conditions are shown as met (${conditions.join(' | ')})`);
  await shot(org, 'dashboard-evidence');

  // ---- 9b. The printable report tells the prompt in the same words ----
  const viewerId = await org.evaluate(async () => (await (await fetch('/api/org/viewers?q=Петрова')).json()).viewers[0].id);
  const report = await org.context().newPage();
  await report.goto(`${BASE}/api/org/viewers/${viewerId}/report`);
  const said = await org.locator('#evidence-body .status.confirmed').first().textContent();
  check((await report.textContent('body')).includes(said), `the report says «${said}» too`);
  await shot(report, 'report');
  await report.close();

  // ---- 10. The phone layout of the player ----
  const phone = await newPage('phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await phone.goto(link);
  await phone.locator('#status[data-state]:not([data-state=offline])').waitFor({ state: 'attached', ...WAIT });
  await phone.locator('#tally-body').waitFor({ state: 'visible', ...WAIT });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the player fits a phone's width (overflow ${overflow}px)`);
  await shot(phone, 'player-phone');

  // ---- 11. The organiser publishes a new user agreement while a newcomer fills the form ----
  const newcomer = await newPage('newcomer');
  await newcomer.goto(`${BASE}/`);
  await newcomer.locator('#ver-terms', { hasText: 'редакция 1' }).waitFor(WAIT);
  await newcomer.fill('#name', 'Белова Ирина Олеговна');
  await newcomer.fill('#email', 'irina.belova@example.org');
  await newcomer.fill('#phone', '+7 916 555-90-12');
  await newcomer.fill('#specialty-search', 'рентген');
  await newcomer.selectOption('#specialty', { label: 'рентгенология' });
  await newcomer.check('#consent_personal_data');
  await newcomer.check('#consent_terms');
  await org.locator('#text-terms-body').waitFor(WAIT);
  check(await org.isVisible('#text-personal-data-warn'), 'the texts editor lists the [fields] still to fill in');
  const terms = await org.inputValue('#text-terms-body');
  await org.fill('#text-terms-body', `${terms}\n\nТрансляция не записывается.`);
  await org.click('#text-terms-save');
  await org.locator('#texts-status', { hasText: 'Сохранена редакция 2' }).waitFor(WAIT);
  check(true, 'the organiser saves the agreement as version 2');
  await org.locator('#texts').scrollIntoViewIfNeeded();
  await org.locator('#texts-h').locator('..').screenshot({ path: path.join(SHOTS, 'dashboard-texts.png') });
  await newcomer.click('#submit');
  await newcomer.locator('#err-consent_terms', { hasText: 'редакция 2' }).waitFor(WAIT);
  check(!(await newcomer.isChecked('#consent_terms')), 'a box ticked for the old agreement is refused and unticked');
  await newcomer.locator('#ver-terms', { hasText: 'редакция 2' }).waitFor(WAIT);
  await newcomer.check('#consent_terms');
  await newcomer.click('#submit');
  await newcomer.locator('#reg-done').waitFor({ state: 'visible', ...WAIT });
  check(/token=/.test(await linkFromMail('irina.belova@example.org')), 'ticked again for version 2, she registers and gets her letter');
} catch (e) {
  check(false, `story stopped: ${e.message.split('\n')[0]}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
