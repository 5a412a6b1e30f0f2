// The dashboard's «Экспорт и рассылка» section: downloads for the commission, one viewer's
// certificate and appeal report, the mail buttons and the delivery log. Self-contained: it only
// reads the session picker (#session) that dashboard.js fills, and talks to the API itself.

import { api, el, say, dateTimeIn } from './common.js';

const $ = (id) => document.getElementById(id);
const KIND = {
  link: 'ссылка', certificate: 'свидетельство', welcome: 'ссылка при регистрации',
  again: 'ссылка: повторная регистрация', relink: 'ссылка по запросу',
};
const STATUS = { queued: 'в очереди', sending: 'отправляется', sent: 'отправлено', failed: 'ошибка' };
let when = (ms) => new Date(ms).toLocaleString('ru-RU');

/** Download links follow the session picker unless «весь форум» is ticked. */
function updateLinks() {
  const session = $('export-all').checked ? '' : ($('session')?.value || '');
  const q = (extra) => new URLSearchParams({ ...(session ? { session } : {}), ...extra });
  $('export-csv').href = `/api/org/export.csv?${q({ delimiter: ';' })}`;
  $('export-xlsx').href = `/api/org/export.xlsx?${q({})}`;
  $('export-summary').href = `/api/org/export.csv?${q({ delimiter: ';', summary: '1' })}`;
}

function openDoc(kind) {
  const id = $('doc-viewer').value.trim();
  if (!id) {
    say($('mail-status'), 'Укажите ID участника (его видно в журнале рассылки и в выгрузке).', 'warn');
    return;
  }
  const path = kind === 'pdf' ? 'certificate.pdf' : 'report';
  window.open(`/api/org/viewers/${encodeURIComponent(id)}/${path}`, '_blank', 'noopener');
}

async function send(what, question) {
  if (!window.confirm(question)) return;
  try {
    const r = await api(`/api/org/mail/${what}`, { method: 'POST' });
    say($('mail-status'), r.message, 'ok');
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
    el('td', {}, el('a', { href: '#', text: r.viewer, onclick: (ev) => { ev.preventDefault(); $('doc-viewer').value = r.viewer; } })),
    el('td', { text: r.email }),
    el('td', { text: STATUS[r.status] || r.status }),
    el('td', { class: 'num', text: String(r.attempts) }),
    el('td', { class: 'num', text: String(r.sends) }),
    el('td', { class: 'small', text: r.last_error || '' }),
    el('td', { text: when(r.updated_at) }),
    el('td', {}, r.status === 'sent' || r.status === 'failed'
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
  $('doc-pdf').addEventListener('click', () => openDoc('pdf'));
  $('doc-report').addEventListener('click', () => openDoc('report'));
  $('mail-links').addEventListener('click', () => send('links',
    'Разослать персональные ссылки всем зарегистрированным, кому их ещё не отправляли?'));
  $('mail-certs').addEventListener('click', () => send('certificates',
    'Разослать свидетельства с кодами НМО всем, у кого есть коды и кому такое свидетельство ещё не отправляли?'));
  $('mail-refresh').addEventListener('click', loadLog);
  $('mail-filter').addEventListener('change', loadLog);
  updateLinks();
  // The dashboard shows itself after sign-in; load the log then, and refresh it while open.
  const dash = $('dash');
  new MutationObserver(() => { if (!dash.hidden) { updateLinks(); loadLog(); } })
    .observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  setInterval(() => { if (!dash.hidden && !document.hidden) loadLog(); }, 15000);
}

start();
