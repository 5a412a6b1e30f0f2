// The dashboard's «Учётные записи» (administrators: list, create with a password shown once,
// change role, disable and enable, reset a password) and «Моя учётная запись» (everyone: the
// role and what it allows, changing one's own password). Self-contained like mail.js: it loads
// when the dashboard shows itself after sign-in.

import { api, el, say, dateTimeIn } from './common.js';
import { ask } from './dialog.js';
import { may, me } from './access.js';

const $ = (id) => document.getElementById(id);
let when = dateTimeIn('Europe/Moscow');
let roles = [];

const ROLE_NOTE = {
  admin: 'Вам доступно всё, включая учётные записи организаторов.',
  moderator: 'Вам доступны просмотр и проведение форума: окна подтверждения, цифры по залам, итоги и доказательства.',
  auditor: 'Вам доступен только просмотр: итоги, доказательства, выгрузки и журнал действий. Изменить что-либо нельзя.',
};

/** A password shown once, with a way to copy it. */
function secret(login, password, message) {
  const input = el('input', { type: 'text', readonly: true, value: password, id: 'account-password', 'aria-label': `Пароль ${login}`, onfocus: (e) => e.target.select() });
  $('account-secret').replaceChildren(
    el('p', { class: 'notice', dataset: { kind: 'ok' }, text: message }),
    el('div', { class: 'row' }, input,
      el('button', { type: 'button', class: 'secondary', text: 'Скопировать', onclick: () => { input.select(); navigator.clipboard?.writeText(password); } })));
  input.focus();
}

async function act(path, body, done) {
  try {
    const r = await api(path, { method: 'POST', body: body ?? {} });
    done?.(r);
    if (!done) say($('accounts-status'), r.message, 'ok');
  } catch (e) {
    say($('accounts-status'), e.message, 'error');
  }
  await loadAccounts();
}

function accountRow(a) {
  const select = el('select', { 'aria-label': `Роль ${a.login}` },
    roles.map((r) => el('option', { value: r.code, text: r.title, selected: r.code === a.role })));
  select.addEventListener('change', () => act(`/api/org/accounts/${encodeURIComponent(a.login)}/role`, { role: select.value }));
  const state = a.disabled
    ? el('span', { class: 'badge bad', text: 'отключена' })
    : el('span', { class: 'badge ok', text: a.sessions ? `входов: ${a.sessions}` : 'действует' });
  const toggle = a.disabled
    ? el('button', { type: 'button', class: 'secondary small', text: 'Включить', onclick: () => act(`/api/org/accounts/${encodeURIComponent(a.login)}/enable`) })
    : el('button', { type: 'button', class: 'secondary small', text: 'Отключить', hidden: a.you, onclick: async () => {
      if (await ask({ title: `Отключить «${a.login}»?`, text: 'Войти под этой учётной записью будет нельзя, её открытые входы завершатся. Включить можно в любой момент.', confirm: 'Отключить' })) {
        act(`/api/org/accounts/${encodeURIComponent(a.login)}/disable`);
      }
    } });
  const reset = el('button', { type: 'button', class: 'secondary small', text: 'Новый пароль', hidden: a.you, onclick: async () => {
    if (await ask({ title: `Новый пароль для «${a.login}»?`, text: 'Старый пароль перестанет работать, все входы под этой учётной записью завершатся. Новый пароль будет показан один раз.', confirm: 'Сбросить пароль' })) {
      act(`/api/org/accounts/${encodeURIComponent(a.login)}/password`, {}, (r) => secret(a.login, r.password, r.message));
    }
  } });
  return el('tr', { dataset: { login: a.login } },
    el('td', { text: a.you ? `${a.login} (вы)` : a.login }),
    el('td', {}, select),
    el('td', {}, state),
    el('td', { class: 'small', text: `создана ${when(a.created_at)}` }),
    el('td', {}, el('div', { class: 'row row-tight' }, toggle, reset)));
}

async function loadAccounts() {
  if (!may('accounts')) return;
  try {
    const r = await api('/api/org/accounts');
    roles = r.roles;
    if (!$('account-role').options.length) {
      $('account-role').replaceChildren(...roles.map((x) => el('option', { value: x.code, text: x.title, selected: x.code === 'moderator' })));
    }
    $('accounts-body').replaceChildren(...r.accounts.map(accountRow));
  } catch (e) {
    if (e.status !== 401) say($('accounts-status'), e.message, 'error');
  }
}

async function createAccount(event) {
  event.preventDefault();
  say($('accounts-status'), '');
  const login = $('account-login').value.trim();
  try {
    const r = await api('/api/org/accounts', { method: 'POST', body: { login, role: $('account-role').value } });
    $('account-login').value = '';
    secret(r.login, r.password, r.message);
    await loadAccounts();
  } catch (e) {
    say($('accounts-status'), e.message, 'error');
  }
}

async function changePassword(event) {
  event.preventDefault();
  for (const id of ['err-current', 'err-new', 'err-repeat']) $(id).textContent = '';
  say($('password-status'), '');
  if ($('password-new').value !== $('password-repeat').value) {
    $('err-repeat').textContent = 'Пароли не совпадают.';
    $('password-repeat').focus();
    return;
  }
  try {
    const r = await api('/api/org/password', { method: 'POST', body: { current: $('password-current').value, new: $('password-new').value } });
    $('password-form').reset();
    say($('password-status'), r.message, 'ok');
  } catch (e) {
    for (const f of e.fields || []) $(`err-${f.field}`).textContent = f.message;
    say($('password-status'), e.message, 'error');
  }
}

function showMe() {
  const m = me();
  if (!m) return;
  $('me-role').textContent = `Вы вошли как ${m.login}, роль — ${m.role_title}. ${ROLE_NOTE[m.role] || ''}`;
}

async function start() {
  try {
    const { forum } = await api('/api/forum');
    when = dateTimeIn(forum.timezone);
  } catch { /* times in Moscow time then */ }
  $('account-form').addEventListener('submit', createAccount);
  $('password-form').addEventListener('submit', changePassword);
  const dash = $('dash');
  new MutationObserver(() => { if (!dash.hidden) { showMe(); loadAccounts(); } })
    .observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  if (!dash.hidden) { showMe(); loadAccounts(); }
}

start();
