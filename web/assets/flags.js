// The dashboard's «Требуют внимания»: viewers whose answers or connections look like a script
// or one device answering for several people (GET /api/org/flags), with the figures behind
// each flag, the evidence report, and a note that the organiser checked it (administrators and
// moderators; kept in the audit trail). A flag changes nothing by itself.

import { api, el, say } from './common.js';
import { may } from './access.js';

const $ = (id) => document.getElementById(id);

const KINDS = [
  ['fast', 'слишком быстрые ответы'],
  ['untrusted', 'ответы без действия человека'],
  ['shared_device', 'одно устройство на нескольких'],
  ['no_page', 'подключения не со страницы плеера'],
];

function reviewForm(f) {
  const id = `flag-note-${f.viewer}`;
  const note = el('textarea', { id, rows: '2', maxlength: '2000' });
  const status = el('p', { class: 'small', role: 'status' });
  const form = el('form', { class: 'flag-review' },
    el('label', { for: id, text: 'Что проверили и что решили' }), note,
    el('p', {}, el('button', { type: 'submit', class: 'small', text: 'Отметить как проверенное' })), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/api/org/flags/${encodeURIComponent(f.viewer)}/review`, { method: 'POST', body: { note: note.value } });
      await loadFlags();
    } catch (err) {
      say(status, err.message, 'error');
      note.focus();
    }
  });
  return el('details', {}, el('summary', { text: f.review ? 'Добавить запись о проверке' : 'Отметить как проверенное' }), form);
}

function item(f) {
  return el('article', { class: 'appeal-item', dataset: { viewer: f.viewer } },
    el('div', { class: 'row' },
      el('strong', { text: f.name || f.viewer }),
      el('span', { class: 'spacer' }),
      el('span', { class: `badge ${f.review ? '' : 'warn'}`, text: f.review ? 'проверено' : 'не проверено' })),
    el('ul', {}, ...f.reasons.map((r) => el('li', {}, el('strong', { text: `${r.title}. ` }), r.text))),
    f.review ? el('p', { class: 'muted small', text: `Проверил(а) ${f.review.by}, ${f.review.at_local.replace('T', ' ')}: ${f.review.note}` }) : null,
    el('p', {}, el('a', { href: f.evidence, target: '_blank', rel: 'noopener' }, 'Отчёт о присутствии')),
    may('answer') ? reviewForm(f) : null);
}

export async function loadFlags() {
  const status = $('flags-status');
  try {
    const data = await api('/api/org/flags');
    const open = data.total - data.reviewed;
    $('flags-open').hidden = open === 0;
    $('flags-open').textContent = `не проверено: ${open}`;
    $('flags-counts').replaceChildren(data.total === 0
      ? 'Признаков нет.'
      : `Участников с признаками: ${data.total}. ${KINDS.filter(([k]) => data.counts[k]).map(([k, w]) => `${w} — ${data.counts[k]}`).join('; ')}.`);
    $('flags-list').replaceChildren(...data.flags.map(item));
    if (data.listed < data.total) say(status, `Показаны первые ${data.listed} из ${data.total}.`, 'info');
    else say(status, '');
  } catch (err) {
    say(status, err.message, 'error');
  }
}

function start() {
  $('flags-refresh').addEventListener('click', loadFlags);
  const dash = $('dash');
  new MutationObserver(() => { if (!dash.hidden) loadFlags(); })
    .observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  if (!dash.hidden) loadFlags();
}

start();
