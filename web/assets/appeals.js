// The dashboard's «Обращения»: viewers' appeals, open ones first and oldest first, each with
// the viewer's text, the rules' verdict and its conditions, and the printable evidence report
// beside it; answering (administrators and moderators) in a dialog that requires a reason.
// The same dialog records a decision on one viewer's session from the evidence view
// (administrators). The server checks every rule; this page lays out what it says.

import { api, el, say, dateTimeIn, reasonList } from './common.js';
import { may } from './access.js';

const $ = (id) => document.getElementById(id);
let when = dateTimeIn('Europe/Moscow');
let opener = null;
/** What the dialog sends when submitted: set by whoever opened it. */
let submitDecision = null;

function verdictBadge(rules) {
  if (!rules) return el('span', { class: 'badge bad', text: 'нет засчитанного времени' });
  return el('span', { class: `badge ${rules.eligible ? 'ok' : 'bad'}`, text: rules.eligible ? 'по правилам: выполнил' : 'по правилам: не выполнил' });
}

/** The decision in force as a line, with the flag a withdrawn, already-sent code needs. */
export function decisionNote(decision, flagged) {
  if (!decision) return null;
  return el('p', { class: 'notice small', dataset: { kind: decision.outcome === 'grant' ? 'ok' : 'warn' } },
    el('strong', { text: `Решение организатора: ${decision.title}.` }), ` ${decision.reason}`,
    flagged ? el('span', { class: 'badge bad', style: 'margin-left:.5em', text: 'код уже выдан' }) : null);
}

function item(a) {
  const answered = a.state === 'answered' && a.answer;
  return el('article', { class: 'appeal-item', dataset: { appeal: String(a.id), state: a.state } },
    el('div', { class: 'row' },
      el('strong', { text: a.viewer_name || a.viewer }),
      el('span', { class: 'muted', text: `«${a.session_title || a.session}»` }),
      el('span', { class: 'spacer' }),
      el('span', { class: `badge ${answered ? '' : 'warn'}`, text: answered ? 'отвечено' : 'ждёт ответа' })),
    el('p', { class: 'muted small', text: `Подано ${when(a.created_at)}${a.updated_at !== a.created_at ? `, изменено ${when(a.updated_at)}` : ''}` }),
    el('blockquote', { class: 'appeal-text', text: a.text }),
    el('div', { class: 'row row-tight' }, verdictBadge(a.rules),
      el('a', { href: a.evidence, target: '_blank', rel: 'noopener' }, 'Отчёт о присутствии')),
    a.rules?.reasons?.length ? reasonList(a.rules.reasons) : null,
    decisionNote(a.decision, a.code_issued_withdrawn),
    answered
      ? el('p', { class: 'notice small', dataset: { kind: a.answer.grant ? 'ok' : 'warn' } },
        el('strong', { text: a.answer.grant ? 'Засчитано.' : 'Отказано.' }), ` ${a.answer.reason} `,
        el('span', { class: 'muted', text: `— ${a.answer.by}, ${when(a.answer.at)}` }))
      : may('answer')
        ? el('button', { type: 'button', class: 'small', onclick: (e) => answer(a, e.currentTarget) }, 'Ответить')
        : null);
}

export async function loadAppeals() {
  try {
    const r = await api('/api/org/appeals');
    $('appeals-open').hidden = !r.open;
    $('appeals-open').textContent = `ждут ответа: ${r.open}`;
    $('appeals-open').className = 'badge warn';
    say($('appeals-status'), r.appeals.length ? '' : 'Обращений пока нет.');
    $('appeals-list').replaceChildren(...r.appeals.map(item));
  } catch (e) {
    say($('appeals-status'), e.message, 'error');
  }
}

/** Opens the dialog; `send(yes, reason)` does the request and resolves when done. */
function openDialog({ title, context, yes, no, confirm, send, from }) {
  opener = from || document.activeElement;
  $('decide-title').textContent = title;
  $('decide-context').textContent = context;
  $('decide-yes-label').textContent = yes;
  $('decide-no-label').textContent = no;
  $('decide-yes').checked = false;
  $('decide-no').checked = false;
  $('decide-reason').value = '';
  $('decide-send').textContent = confirm;
  say($('decide-status'), '');
  submitDecision = send;
  $('decide-dialog').showModal();
  $('decide-yes').focus();
}

function answer(a, from) {
  openDialog({
    title: 'Ответ на обращение',
    context: `${a.viewer_name || a.viewer}, сессия «${a.session_title || a.session}».`,
    yes: 'Засчитать сессию',
    no: 'Отказать',
    confirm: 'Отправить ответ',
    from,
    send: async (grant, reason) => {
      await api(`/api/org/appeals/${a.id}/answer`, { method: 'POST', body: { grant, reason } });
      say($('appeals-status'), `Ответ отправлен: ${a.viewer_name || a.viewer} получит письмо.`, 'ok');
      await loadAppeals();
    },
  });
}

/**
 * A button to record a decision on one viewer's session (administrators), for the evidence
 * view; `done` runs after it is recorded (e.g. to redraw the view).
 */
export function decisionButton(viewer, session, sessionTitle, done) {
  if (!may('manage')) return null;
  return el('button', { type: 'button', class: 'secondary small', onclick: (e) => openDialog({
    title: 'Решение по сессии участника',
    context: `${viewer.name || viewer.id}, сессия «${sessionTitle}». Решение заменит итог по правилам везде: на странице участника, в выгрузке, при выдаче кодов; итог по правилам останется рядом.`,
    yes: 'Засчитать',
    no: 'Не засчитывать',
    confirm: 'Записать решение',
    from: e.currentTarget,
    send: async (grant, reason) => {
      const r = await api('/api/org/decisions', { method: 'POST', body: { viewer: viewer.id, session, outcome: grant ? 'grant' : 'withdraw', reason } });
      if (r.warning) window.setTimeout(() => alertWarning(r.warning), 0);
      await done?.();
      await loadAppeals();
    },
  }) }, 'Решение организатора…');
}

function alertWarning(text) {
  say($('appeals-status'), text, 'warn');
  $('appeals').scrollIntoView({ block: 'start' });
}

function close() {
  $('decide-dialog').close();
  opener?.focus?.();
}

async function submit(event) {
  event.preventDefault();
  const yes = $('decide-yes').checked;
  if (!yes && !$('decide-no').checked) {
    say($('decide-status'), 'Выберите решение.', 'error');
    $('decide-yes').focus();
    return;
  }
  const reason = $('decide-reason').value.trim();
  if (!reason) {
    say($('decide-status'), 'Укажите причину: участник увидит её на своей странице.', 'error');
    $('decide-reason').focus();
    return;
  }
  $('decide-send').disabled = true;
  try {
    await submitDecision(yes, reason);
    close();
  } catch (e) {
    say($('decide-status'), e.message, 'error');
  } finally {
    $('decide-send').disabled = false;
  }
}

async function start() {
  try {
    const { forum } = await api('/api/forum');
    when = dateTimeIn(forum.timezone);
  } catch { /* times in Moscow time then */ }
  $('decide-form').addEventListener('submit', submit);
  // A message about a missing choice or reason goes once the organiser mends it.
  const mended = () => {
    if ($('decide-status').dataset.kind === 'error') say($('decide-status'), '');
  };
  $('decide-reason').addEventListener('input', mended);
  $('decide-form').addEventListener('change', mended);
  $('decide-cancel').addEventListener('click', close);
  $('appeals-refresh').addEventListener('click', loadAppeals);
  const dash = $('dash');
  new MutationObserver(() => { if (!dash.hidden) loadAppeals(); })
    .observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  if (!dash.hidden) loadAppeals();
}

start();
