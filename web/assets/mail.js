// The dashboard's «Экспорт и рассылка» section: downloads for the commission, the mail
// buttons, the state of the mail server and the delivery log. Self-contained: it only reads the
// session picker (#session) that dashboard.js fills and uses its search form to find a
// letter's recipient, and talks to the API itself.
//
// Before anything is sent the organiser sees, in an in-page dialog, how many letters will go
// and whether the mail server answers now (GET /api/org/mail/preview and /mail/status).

import { api, withForum, el, say, dateTimeIn, plural } from './common.js';
import { ask } from './dialog.js';
import { may } from './access.js';

const $ = (id) => document.getElementById(id);
const KIND = {
  link: 'ссылка', certificate: 'свидетельство', welcome: 'ссылка при регистрации',
  again: 'ссылка: повторная регистрация', relink: 'ссылка по запросу', appeal: 'ответ на обращение',
};
const STATUS = { queued: 'в очереди', sending: 'отправляется', sent: 'отправлено', failed: 'ошибка' };
let when = (ms) => new Date(ms).toLocaleString('ru-RU');

const letters = (n) => `${n} ${plural(n, 'письмо', 'письма', 'писем')}`;

/** Download links follow the session picker unless «весь форум» is ticked. */
function updateLinks() {
  const session = $('export-all').checked ? '' : ($('session')?.value || '');
  const q = (extra) => new URLSearchParams({ ...(session ? { session } : {}), ...extra });
  $('export-csv').href = withForum(`/api/org/export.csv?${q({ delimiter: ';' })}`);
  $('export-xlsx').href = withForum(`/api/org/export.xlsx?${q({})}`);
  $('export-summary').href = withForum(`/api/org/export.csv?${q({ delimiter: ';', summary: '1' })}`);
}

/** Checks the mail server and shows the answer above the buttons; returns it (or null). */
async function checkSmtp() {
  const node = $('smtp-status');
  let s;
  try {
    s = await api('/api/org/mail/status');
  } catch (e) {
    if (e.status !== 401) say(node, `Не удалось проверить почтовый сервер: ${e.message}`, 'warn');
    return null;
  }
  const warnings = s.warnings || [];
  if (s.ok) {
    say(node, [`${s.message}.`, ...warnings.map((w) => `${w}.`)].join(' '), warnings.length ? 'warn' : 'ok');
  } else {
    say(node, [`${s.message}.`, s.configured ? 'Письма встанут в очередь и уйдут, когда сервер заработает.' : '', ...warnings.map((w) => `${w}.`)].filter(Boolean).join(' '), 'warn');
  }
  return s;
}

const WHAT = {
  link: {
    title: 'Разослать персональные ссылки?',
    each: 'Каждому зарегистрированному участнику — письмо с его личной ссылкой на трансляцию.',
    before: (n) => `${n} ${plural(n, 'участнику', 'участникам', 'участникам')} ссылка уже отправлена или ждёт в очереди — им повторно не уйдёт.`,
    none: 'Отправлять нечего: всем зарегистрированным ссылки уже отправлены или ждут в очереди.',
    path: 'links',
  },
  certificate: {
    title: 'Разослать свидетельства?',
    each: 'Каждому, у кого есть коды НМО, — письмо со свидетельством (PDF) и кодами.',
    before: (n) => `${n} ${plural(n, 'участнику', 'участникам', 'участникам')} свидетельство с теми же кодами уже отправлено или ждёт в очереди — им повторно не уйдёт.`,
    none: 'Отправлять нечего: свидетельства с нынешними кодами уже отправлены всем или ждут в очереди.',
    empty: 'Кодов НМО ещё не выдано никому: сначала выдайте коды в «Итогах сессии».',
    path: 'certificates',
  },
};

async function send(kind, button) {
  const what = WHAT[kind];
  button.disabled = true;
  let preview;
  let smtp;
  try {
    [preview, smtp] = await Promise.all([api(`/api/org/mail/preview?kind=${kind}`), checkSmtp()]);
  } catch (e) {
    say($('mail-status'), e.message, 'warn');
    return;
  } finally {
    button.disabled = false;
  }
  if (preview.recipients === 0 && what.empty) { say($('mail-status'), what.empty, 'info'); return; }
  if (preview.queued === 0) { say($('mail-status'), what.none, 'info'); return; }
  const skipped = preview.recipients - preview.queued;
  const warning = smtp && !smtp.ok
    ? `${smtp.message}. Письма встанут в очередь и уйдут, когда сервер заработает; ошибки будут видны в журнале.`
    : '';
  const go = await ask({
    title: what.title,
    text: `Уйдёт ${letters(preview.queued)}. ${what.each}${skipped ? ` ${what.before(skipped)}` : ''}`,
    warning,
    confirm: `Отправить ${letters(preview.queued)}`,
    opener: button,
  });
  if (!go) return;
  try {
    const r = await api(`/api/org/mail/${what.path}`, { method: 'POST' });
    say($('mail-status'), `${r.message}.`, 'ok');
    await loadLog();
  } catch (e) {
    say($('mail-status'), e.message, 'warn');
  }
}

async function resend(id) {
  try {
    await api(`/api/org/mail/${id}/resend`, { method: 'POST' });
    say($('mail-status'), `Письмо №${id} поставлено в очередь ещё раз.`, 'ok');
    await loadLog();
  } catch (e) {
    say($('mail-status'), e.message, 'warn');
  }
}

/** Finds a letter's recipient in «Участники», where their documents and evidence are. */
function findViewer(email) {
  $('q').value = email;
  $('search-form').requestSubmit();
  $('viewers-h').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function loadLog() {
  const status = $('mail-filter').value;
  let data;
  try {
    data = await api(`/api/org/mail/log?${new URLSearchParams(status ? { status } : {})}`);
  } catch (e) {
    if (e.status !== 401) say($('mail-status'), e.message, 'warn');
    return;
  }
  $('mail-counts').textContent = data.counts.length
    ? data.counts.map((c) => `${KIND[c.kind] || c.kind}: ${STATUS[c.status] || c.status} — ${c.count}`).join('; ')
    : 'Писем ещё не было.';
  $('mail-body').replaceChildren(...data.rows.map((r) => el('tr', {},
    el('td', { class: 'num', text: String(r.id) }),
    el('td', { text: KIND[r.kind] || r.kind }),
    el('td', {}, el('button', {
      type: 'button', class: 'link', text: r.email, title: 'Найти участника',
      'aria-label': `Найти участника ${r.email} в разделе «Участники»`, onclick: () => findViewer(r.email),
    })),
    el('td', { text: STATUS[r.status] || r.status }),
    el('td', { class: 'num', text: String(r.attempts) }),
    el('td', { class: 'num', text: String(r.sends) }),
    el('td', { class: 'small', text: r.last_error || '' }),
    el('td', { text: when(r.updated_at) }),
    el('td', {}, may('manage') && (r.status === 'sent' || r.status === 'failed')
      ? el('button', { type: 'button', class: 'secondary small', text: 'Отправить ещё раз', onclick: () => resend(r.id) })
      : null),
  )));
}

async function start() {
  try {
    const { forum } = await api('/api/forum');
    when = dateTimeIn(forum.timezone);
    $('mail-zone').textContent = `Время — ${forum.timezone}.`;
  } catch { /* the log still shows, in the browser's zone */ }
  $('export-all').addEventListener('change', updateLinks);
  $('session')?.addEventListener('change', updateLinks);
  $('mail-links').addEventListener('click', (e) => send('link', e.currentTarget));
  $('mail-certs').addEventListener('click', (e) => send('certificate', e.currentTarget));
  $('mail-refresh').addEventListener('click', loadLog);
  $('mail-filter').addEventListener('change', loadLog);
  updateLinks();
  // The dashboard shows itself after sign-in; load the log then, and refresh it while open.
  const dash = $('dash');
  // Only those who send mail are told about the mail server (and may ask about it).
  new MutationObserver(() => { if (!dash.hidden) { updateLinks(); loadLog(); if (may('manage')) checkSmtp(); } })
    .observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  setInterval(() => { if (!dash.hidden && !document.hidden) loadLog(); }, 15000);
}

start();
