// The dashboard's «Поправки к сессиям» section: after an outage, choose a finished session and
// what of it not to count (one prompt, or a stretch of time), give the reason, see whose
// verdicts would change, then save with a confirmation. The words of each correction and every
// verdict come from the server's rules; the page only shows them.

import { api, el, say } from './common.js';
import { ask } from './dialog.js';
import { may } from './access.js';

const $ = (id) => document.getElementById(id);
let sessions = [];
/** The correction last previewed: saving sends exactly it. */
let previewed = null;

const FIELDS = ['session', 'change', 'prompt', 'from', 'to', 'reason'];

function change() {
  return document.querySelector('input[name="correction-change"]:checked').value;
}

function showChange() {
  const voiding = change() === 'void_prompt';
  $('correction-prompt-field').hidden = !voiding;
  $('correction-range-field').hidden = voiding;
}

function fillPrompts() {
  const s = sessions.find((x) => x.id === $('correction-session').value);
  const prompts = s ? s.prompts : [];
  $('correction-prompt').replaceChildren(...(prompts.length
    ? prompts.map((p) => el('option', { value: p.id, text: `Показано в ${p.time}` }))
    : [el('option', { value: '', text: 'В этой сессии окон не было' })]));
  if (s) {
    $('correction-from').value = s.starts;
    $('correction-to').value = s.ends;
  }
}

function body() {
  const b = { session: $('correction-session').value, change: change(), reason: $('correction-reason').value };
  if (b.change === 'void_prompt') b.prompt = $('correction-prompt').value;
  else { b.from = $('correction-from').value; b.to = $('correction-to').value; }
  return b;
}

function clearErrors() {
  for (const f of FIELDS) $(`err-correction-${f}`).textContent = '';
  say($('correction-status'), '');
}

function showErrors(e) {
  for (const f of e.fields || []) {
    const node = $(`err-correction-${f.field}`);
    if (node) node.textContent = f.message;
  }
  say($('correction-status'), e.message, 'error');
}

const verdict = (v) => `${v.eligible ? 'Выполнил условия' : 'Не выполнил условия'} (${v.minutes} мин, подтверждено ${v.confirmed})`;

function showPreview(r) {
  const c = r.counts;
  $('correction-counts').textContent = c.changed
    ? `Изменятся итоги ${c.changed}: засчитано станет ${c.granted}, не засчитано — ${c.withdrawn}. Выполнили условия: было ${c.eligible_before}, станет ${c.eligible_after}.`
    : 'Итоги никого не изменятся.';
  $('correction-changes').replaceChildren(...r.changes.map((x) => el('tr', {},
    el('td', { 'data-label': 'Участник', text: x.name || x.viewer }),
    el('td', { 'data-label': 'Было', text: verdict(x.before) }),
    el('td', { 'data-label': 'Станет', text: verdict(x.after) }))));
  $('correction-table').hidden = !r.changes.length;
  $('correction-preview-box').hidden = false;
}

async function preview(event) {
  event.preventDefault();
  clearErrors();
  $('correction-preview-box').hidden = true;
  previewed = body();
  try {
    showPreview(await api('/api/org/corrections/preview', { method: 'POST', body: previewed }));
  } catch (e) {
    previewed = null;
    showErrors(e);
  }
}

async function save() {
  if (!previewed) return;
  const s = sessions.find((x) => x.id === previewed.session);
  const yes = await ask({
    title: 'Сохранить поправку?',
    text: `${$('correction-counts').textContent} Поправку к сессии «${s ? s.title : previewed.session}» нельзя будет удалить; она будет видна в итогах, выгрузках и журнале действий.`,
    confirm: 'Сохранить поправку',
  });
  if (!yes) return;
  try {
    const r = await api('/api/org/corrections', { method: 'POST', body: previewed });
    previewed = null;
    $('correction-preview-box').hidden = true;
    $('correction-reason').value = '';
    say($('correction-status'), `Сохранено. ${r.text}`, 'ok');
    await load();
  } catch (e) {
    showErrors(e);
  }
}

async function load() {
  try {
    const r = await api('/api/org/corrections');
    sessions = r.sessions;
    const chosen = $('correction-session').value;
    $('correction-session').replaceChildren(...(sessions.length
      ? sessions.map((s) => el('option', { value: s.id, text: `${s.date} ${s.starts}–${s.ends} · ${s.hall_title} · ${s.title}` }))
      : [el('option', { value: '', text: 'Ни одна сессия ещё не закончилась' })]));
    if (sessions.some((s) => s.id === chosen)) $('correction-session').value = chosen;
    fillPrompts();
    $('corrections-list').replaceChildren(...(r.corrections.length
      ? r.corrections.map((c) => el('li', {},
        el('strong', { text: c.session_title }), ` — ${c.text} `,
        el('span', { class: 'muted small', text: `(${c.correction.by})` })))
      : [el('li', { class: 'muted', text: 'Поправок нет.' })]));
    $('correction-form').hidden = !may('view');
  } catch (e) {
    if (e.status !== 401) say($('correction-status'), e.message, 'error');
  }
}

function start() {
  $('correction-form').addEventListener('submit', preview);
  $('correction-session').addEventListener('change', () => { fillPrompts(); $('correction-preview-box').hidden = true; });
  for (const r of document.querySelectorAll('input[name="correction-change"]')) {
    r.addEventListener('change', () => { showChange(); $('correction-preview-box').hidden = true; });
  }
  $('correction-save').addEventListener('click', save);
  showChange();
  const dash = $('dash');
  let loaded = false;
  new MutationObserver(() => {
    if (!dash.hidden && !loaded) { loaded = true; load(); }
  }).observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  if (!dash.hidden) { loaded = true; load(); }
}

start();
