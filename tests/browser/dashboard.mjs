// The organiser's dashboard after the day has begun, in a real browser, against a running
// `yavka serve` whose store already holds an earlier part of the day's viewer figures
// (tests/browser.rs writes them before this runs):
//
//   BASE=http://127.0.0.1:8080 ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots \
//     node tests/browser/dashboard.mjs
//
// The organiser signs in late: «Зрители за день» starts before the page was opened and its
// time axis has distinct 24-hour labels. She finds a doctor by name and opens the appeal
// report from the doctor's row; a certificate the doctor does not have yet opens a Russian
// page with a way back, not JSON. «Разослать персональные ссылки» asks in an in-page dialog
// that says how many letters will go and warns when the mail server does not answer; Esc
// cancels and sends nothing, confirming queues the letters. The administrator then creates an
// auditor in «Учётные записи» (the password is shown once); the auditor signs in and sees no
// control they may not use, reads «Журнал действий» filtered by action, and changes their own
// password. Desktop and phone screenshots.

import { createRequire } from 'node:module';
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
const shot = (page, name, full = false) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: full });

async function signIn(viewport, login = LOGIN, password = PASSWORD) {
  const context = await browser.newContext({ locale: 'ru-RU', viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => scriptErrors.push(`${viewport.width}px: ${e}`));
  await page.goto(`${BASE}/org`);
  await page.locator('#login').waitFor({ state: 'visible', ...WAIT });
  await page.fill('#login-name', login);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  return page;
}

const focused = (page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

try {
  // ---- 1. The day's chart starts before the page was opened ----
  const opened = Date.now();
  const org = await signIn({ width: 1366, height: 900 });
  await org.locator('#chart[data-first]:not([data-first=""])').waitFor({ state: 'attached', ...WAIT });
  await org.locator('#chart .u-over').waitFor({ state: 'attached', ...WAIT });
  const first = Number(await org.getAttribute('#chart', 'data-first'));
  check(first < opened - 60_000, `the chart begins before the page was opened (${new Date(first).toISOString()})`);
  const points = Number(await org.getAttribute('#chart', 'data-points'));
  check(points >= 2, `it holds the stored minutes (${points} points)`);
  const ticks = (await org.getAttribute('#chart', 'data-ticks')).split(' ');
  check(ticks.length >= 3 && ticks.every((t) => /^([01]\d|2[0-3]):[0-5]\d$/.test(t)), `the time axis has 24-hour labels (${ticks.join(' ')})`);
  check(new Set(ticks).size === ticks.length, 'no axis label repeats');
  const label = await org.getAttribute('#chart', 'aria-label');
  check(/Зал №1: сейчас \d+, больше всего \d+ в \d\d:\d\d/.test(label), `the chart says what it shows in words («${label}»)`);
  await org.locator('#chart').evaluate((n) => n.closest('section').scrollIntoView());
  await shot(org, 'dashboard-day');

  // ---- 1b. Sessions are named with their dates; each result row has the viewer's documents ----
  const option = await org.textContent('#session option:checked');
  check(/^\d{1,2} [а-я]+( \d{4})?, \d\d:\d\d–\d\d:\d\d · Зал №\d · /.test(option), `a session is named with its date («${option}»)`);
  await org.click('#results-load');
  const result = org.locator('#results-body tr').first();
  await result.getByRole('link', { name: /Отчёт для апелляции/ }).waitFor(WAIT);
  check(true, 'a result row links to the viewer\'s report');

  // ---- 2. A doctor is found by name; her report opens from her row ----
  const reg = await org.evaluate(async () => (await fetch('/api/register', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ name: 'Белозёрова Ольга Викторовна', email: 'olga.belozerova@example.org', phone: '+79160001122',
      education: 'higher', specialty: 'рентгенология', ...(await (async () => {
        const { texts } = await (await fetch('/api/texts')).json();
        const v = (k) => texts.find((t) => t.kind === k).version;
        return { consent_personal_data: true, consent_terms: true,
          consent_personal_data_version: v('personal-data'), consent_terms_version: v('terms') };
      })()) }),
  })).status);
  check(reg < 300, `a doctor registers (${reg})`);
  await org.fill('#q', 'белозёрова');
  await org.click('#search-form button[type=submit]');
  const row = org.locator('#viewers-body tr', { hasText: 'Белозёрова Ольга Викторовна' });
  await row.waitFor(WAIT);
  check(await row.getByText('кодов НМО нет').isVisible(), 'her row says she holds no codes yet');
  const popup = org.waitForEvent('popup');
  await row.getByRole('link', { name: /Отчёт для апелляции: Белозёрова/ }).click();
  const report = await popup;
  await report.waitForLoadState();
  check((await report.title()).includes('Белозёрова Ольга Викторовна'), `her report opens in a new tab («${await report.title()}»)`);
  const id = decodeURIComponent(new URL(report.url()).pathname.split('/')[4]);
  await report.close();

  // ---- 3. A certificate she does not have: a page with a way back, not JSON ----
  const tab = await org.context().newPage();
  await tab.goto(`${BASE}/api/org/viewers/${encodeURIComponent(id)}/certificate.pdf`);
  check((await tab.textContent('h1')) === 'Свидетельство не открылось', 'the missing certificate is a page with a heading');
  const says = await tab.textContent('#error-text');
  check(says.startsWith('У участника Белозёрова Ольга Викторовна пока нет кодов НМО'), `it says why in Russian («${says}»)`);
  check(!(await tab.content()).includes('{"error"'), 'no raw JSON');
  await shot(tab, 'dashboard-error-page');
  await tab.click('#error-back');
  await tab.locator('#dash').waitFor({ state: 'visible', ...WAIT });
  check(true, '«Вернуться в панель организатора» leads back to the dashboard');
  await tab.close();

  // ---- 4. The mail dialog: how many letters, the server's state, Esc, focus ----
  const smtp = await org.evaluate(async () => (await fetch('/api/org/mail/status', { headers: { accept: 'application/json' } })).json());
  const registered = Number((await org.textContent('#search-status')).match(/всего зарегистрировано (\d+)/)[1]);
  await org.locator('#smtp-status:not([hidden])').waitFor(WAIT);
  const countsBefore = await org.textContent('#mail-counts');
  await org.click('#mail-links');
  await org.locator('#confirm-dialog[open]').waitFor(WAIT);
  check((await org.textContent('#confirm-title')) === 'Разослать персональные ссылки?', 'the dialog has a title');
  const text = await org.textContent('#confirm-text');
  check(text.includes(`Уйдёт ${registered} `), `it says how many letters go («${text}»)`);
  check((await org.textContent('#confirm-yes')).startsWith(`Отправить ${registered} `), 'the confirm button says what it does');
  const warned = await org.isVisible('#confirm-warning');
  check(warned === !smtp.ok, `it warns exactly when the mail server does not answer (ok=${smtp.ok})`);
  check(await org.evaluate(() => {
    const d = document.getElementById('confirm-dialog');
    return d.getAttribute('aria-labelledby') === 'confirm-title' && d.getAttribute('aria-describedby').includes('confirm-text');
  }), 'the dialog is labelled and described');
  check(await focused(org) === 'confirm-no', 'focus starts on «Отмена»');
  await org.keyboard.press('Tab');
  await org.keyboard.press('Tab');
  check(await focused(org) === 'confirm-no', 'Tab stays inside the dialog');
  await org.keyboard.press('Shift+Tab');
  check(await focused(org) === 'confirm-yes', 'Shift+Tab too');
  await shot(org, 'dashboard-mail-dialog');
  await org.keyboard.press('Escape');
  await org.locator('#confirm-dialog:not([open])').waitFor({ state: 'attached', ...WAIT });
  // The dialog's `close` event (which moves the focus back) fires after `open` goes: on a busy
  // machine the check could run in between.
  await org.waitForFunction(() => document.activeElement?.id === 'mail-links', null, { timeout: 2_000 }).catch(() => {});
  check(await focused(org) === 'mail-links', 'Esc closes it and focus returns to the button');
  await org.waitForTimeout(300);
  check((await org.textContent('#mail-counts')) === countsBefore, `a cancelled dialog sends nothing («${countsBefore}»)`);
  await org.click('#mail-links');
  await org.locator('#confirm-dialog[open]').waitFor(WAIT);
  await org.click('#confirm-yes');
  await org.locator('#mail-status', { hasText: `В очередь поставлено писем: ${registered}` }).waitFor(WAIT);
  await org.locator('#mail-body tr').nth(registered - 1).waitFor(WAIT);
  check(true, 'confirming queues one letter per viewer, shown in the delivery log');

  // ---- 5. The phone ----
  const phone = await signIn({ width: 390, height: 844 });
  await phone.locator('#chart .u-over').waitFor({ state: 'attached', ...WAIT });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the dashboard fits a phone's width (overflow ${overflow}px)`);
  const phoneTicks = (await phone.getAttribute('#chart', 'data-ticks')).split(' ');
  check(phoneTicks.length >= 2 && new Set(phoneTicks).size === phoneTicks.length, `the phone's axis has room for its labels (${phoneTicks.join(' ')})`);
  await phone.locator('#chart').evaluate((n) => n.closest('section').scrollIntoView());
  await shot(phone, 'dashboard-day-phone');
  // One more registration, so there is a letter to ask about.
  await phone.evaluate(async () => fetch('/api/register', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ name: 'Орлов Игорь Андреевич', email: 'orlov@example.org', phone: '+79160003344',
      education: 'higher', specialty: 'рентгенология', ...(await (async () => {
        const { texts } = await (await fetch('/api/texts')).json();
        const v = (k) => texts.find((t) => t.kind === k).version;
        return { consent_personal_data: true, consent_terms: true,
          consent_personal_data_version: v('personal-data'), consent_terms_version: v('terms') };
      })()) }),
  }));
  await phone.click('#mail-links');
  await phone.locator('#confirm-dialog[open]').waitFor(WAIT);
  await shot(phone, 'dashboard-mail-dialog-phone');
  await phone.keyboard.press('Escape');

  // ---- 6. Roles: an auditor made in the dashboard sees only what an auditor may use ----
  await org.locator('#accounts-body tr').first().waitFor(WAIT);
  await org.fill('#account-login', 'kontrol');
  await org.selectOption('#account-role', 'auditor');
  await org.click('#account-create');
  await org.locator('#account-password').waitFor(WAIT);
  const password = await org.inputValue('#account-password');
  check(/^[0-9a-f]{20}$/.test(password), 'the new account\'s password is shown once');
  const created = org.locator('#accounts-body tr[data-login="kontrol"]');
  await created.waitFor(WAIT);
  check((await created.locator('select').inputValue()) === 'auditor', 'the list shows the new auditor');
  await org.locator('#accounts').scrollIntoViewIfNeeded();
  await shot(org, 'dashboard-accounts');

  const auditor = await signIn({ width: 1366, height: 900 }, 'kontrol', password);
  check((await auditor.textContent('#who')).includes('(аудитор)'), 'the top bar names the role');
  await auditor.locator('#hall-stats .hall-stat').first().waitFor(WAIT);
  await auditor.locator('#audit-body tr').first().waitFor(WAIT);
  const hidden = await auditor.evaluate(() => ({
    fire: document.querySelectorAll('#hall-stats button').length,
    codes: document.querySelector('details[data-needs="manage"]').hidden,
    send: document.getElementById('mail-links').hidden,
    accounts: document.getElementById('accounts').hidden,
    save: document.querySelectorAll('#texts button[id$="-save"]').length,
    readonly: [...document.querySelectorAll('#texts textarea')].every((t) => t.readOnly),
  }));
  check(hidden.fire === 0 && hidden.codes && hidden.send && hidden.accounts && hidden.save === 0 && hidden.readonly,
    `an auditor sees no prompt, code, mail, account or text controls (${JSON.stringify(hidden)})`);
  const firstRow = await auditor.textContent('#audit-body tr:first-child');
  check(firstRow.includes('kontrol') && firstRow.includes('Вход'), `the trail starts with the auditor's own sign-in («${firstRow}»)`);
  await auditor.selectOption('#audit-action', 'account_created');
  await auditor.click('#audit-show');
  await auditor.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit-body tr')];
    return rows.length && rows.every((r) => r.textContent.includes('Создана учётная запись'));
  }, null, WAIT);
  await auditor.locator('#audit-body tr', { hasText: 'Создана учётная запись «kontrol», роль «аудитор»' }).waitFor(WAIT);
  const rows = await auditor.locator('#audit-body tr').count();
  const byWhom = await auditor.textContent('#audit-body tr:first-child');
  check(byWhom.includes(LOGIN) && byWhom.includes('администратор') && byWhom.includes('127.0.0.1'), `it says who made the account and from where («${byWhom}»)`);
  check((await auditor.getAttribute('#audit-csv', 'href')).includes('action=account_created'), 'the CSV link carries the filter');
  check(rows >= 1, `filtered by action (${rows} row(s))`);
  await auditor.locator('#audit').scrollIntoViewIfNeeded();
  await shot(auditor, 'dashboard-audit');

  // The auditor changes their own password: a wrong current one is named, then it works.
  await auditor.click('#me summary');
  await auditor.fill('#password-current', 'not-my-password');
  await auditor.fill('#password-new', 'аудитор-пароль-2');
  await auditor.fill('#password-repeat', 'аудитор-пароль-2');
  await auditor.click('#password-save');
  await auditor.locator('#err-current:not(:empty)').waitFor(WAIT);
  await auditor.fill('#password-current', password);
  await auditor.click('#password-save');
  await auditor.locator('#password-status', { hasText: 'Пароль изменён' }).waitFor(WAIT);
  check(true, 'the auditor changed their own password');

  const auditorPhone = await signIn({ width: 390, height: 844 }, 'kontrol', 'аудитор-пароль-2');
  await auditorPhone.locator('#audit-body tr').first().waitFor(WAIT);
  const phoneOverflow = await auditorPhone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(phoneOverflow <= 0, `the auditor's dashboard fits a phone (overflow ${phoneOverflow}px)`);
  await auditorPhone.locator('#audit').scrollIntoViewIfNeeded();
  await shot(auditorPhone, 'dashboard-audit-phone');
} catch (e) {
  check(false, `dashboard stopped: ${e.message.split('\n')[0]}`);
}

check(scriptErrors.length === 0, `no script errors${scriptErrors.length ? `: ${scriptErrors.join('; ')}` : ''}`);
await browser.close();
console.log(`screenshots: ${SHOTS}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
