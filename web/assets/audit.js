// The dashboard's «Журнал действий» (administrators and auditors): who did what, when and from
// where, newest first, filtered by person, action and period (in the forum's time zone), in
// pages of 50 with «Показать ещё», and the same selection as CSV.

import { api, withForum, el, say, dateTimeIn } from './common.js';
import { may } from './access.js';

const $ = (id) => document.getElementById(id);
let when = dateTimeIn('Europe/Moscow');
let next = null;

function filters() {
  const q = {};
  const person = $('audit-person').value.trim();
  if (person) q.person = person;
  if ($('audit-action').value) q.action = $('audit-action').value;
  if ($('audit-from').value) q.from = $('audit-from').value;
  if ($('audit-to').value) q.to = $('audit-to').value;
  return q;
}

function row(e) {
  return el('tr', {},
    el('td', { class: 'small', text: when(e.at) }),
    el('td', {}, el('div', { text: e.actor }), e.role_title ? el('div', { class: 'muted small', text: e.role_title }) : null),
    el('td', { class: 'small', text: e.address || '—' }),
    el('td', {}, el('span', { class: `badge ${e.action === 'access_denied' || e.action === 'sign_in_failed' ? 'warn' : ''}`, text: e.action_title })),
    el('td', { class: 'small', text: e.description }));
}

async function load(more = false) {
  const q = filters();
  $('audit-csv').href = withForum(`/api/org/audit.csv?${new URLSearchParams({ ...q, delimiter: ';' })}`);
  if (more && next) q.before = next;
  try {
    const r = await api(`/api/org/audit?${new URLSearchParams(q)}`);
    // The actions come from the server once; the first option is «все действия».
    if ($('audit-action').options.length === 1) {
      $('audit-action').append(...r.actions.map((a) => el('option', { value: a.code, text: a.title })));
    }
    $('audit-people').replaceChildren(...r.people.map((p) => el('option', { value: p })));
    const rows = r.entries.map(row);
    if (more) $('audit-body').append(...rows);
    else $('audit-body').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'Записей нет.' }))]));
    next = r.next;
    $('audit-more').hidden = !next;
    const shown = $('audit-body').querySelectorAll('tr').length;
    say($('audit-count'), r.total ? `Записей: ${r.total}, показано ${Math.min(shown, r.total)}. Время — ${r.zone}.` : '', 'info');
    say($('audit-status'), '');
  } catch (e) {
    if (e.status !== 401) say($('audit-status'), e.message, 'error');
  }
}

async function start() {
  try {
    const { forum } = await api('/api/forum');
    when = dateTimeIn(forum.timezone);
  } catch { /* times in Moscow time then */ }
  $('audit-form').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  $('audit-more').addEventListener('click', () => load(true));
  const dash = $('dash');
  new MutationObserver(() => { if (!dash.hidden && may('audit')) load(); })
    .observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  if (!dash.hidden && may('audit')) load();
}

start();
