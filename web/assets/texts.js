// The dashboard's «Тексты для участников» section: read and replace the consent texts. Each
// save is a new version; earlier ones stay readable. Self-contained like mail.js: it loads when
// the dashboard shows itself after sign-in and talks to the API itself.

import { api, el, say } from './common.js';
import { dateIn } from './consent.js';
import { may } from './access.js';

const $ = (id) => document.getElementById(id);
let when = dateIn('Europe/Moscow');

function meta(t) {
  return `Действует редакция ${t.version} от ${when(t.created_at)}, ${t.created_by ? `сохранил(а) ${t.created_by}` : 'текст по умолчанию'}.`;
}

function placeholderNote(t) {
  return t.placeholders.length
    ? `Заполните поля в квадратных скобках: ${t.placeholders.join(', ')}. Пока они не заполнены, участники видят их как есть.`
    : '';
}

function editor(t) {
  const id = (name) => `text-${t.kind}-${name}`;
  let base = t.version;
  const status = el('p', { class: 'notice', id: id('status'), role: 'status', hidden: true });
  // Those who may not change the texts read them in the same fields, read-only (and are not
  // asked to fill in the blanks).
  const readOnly = !may('manage');
  const warn = el('p', { class: 'notice', dataset: { kind: 'warn' }, id: id('warn'), hidden: readOnly || !t.placeholders.length, text: placeholderNote(t) });
  const info = el('p', { class: 'muted small', id: id('meta'), text: meta(t) });
  const title = el('input', { id: id('title'), type: 'text', value: t.title, readonly: readOnly, 'aria-describedby': id('err-title') });
  const body = el('textarea', { id: id('body'), spellcheck: 'true', readonly: readOnly, 'aria-describedby': id('err-body') });
  body.value = t.body;
  const errTitle = el('p', { class: 'field-error', id: id('err-title') });
  const errBody = el('p', { class: 'field-error', id: id('err-body') });
  const view = el('a', { class: 'button secondary', href: t.page, target: '_blank', rel: 'noopener', text: 'Как видят участники' });
  const history = el('details', {},
    el('summary', { text: `Все редакции (${t.history.length})` }),
    el('ul', {}, t.history.map((h) => el('li', {},
      el('a', { href: h.page, target: '_blank', rel: 'noopener', text: `Редакция ${h.version}` }),
      ` — ${when(h.created_at)}, ${h.created_by || 'текст по умолчанию'}`))));

  async function save() {
    errTitle.textContent = '';
    errBody.textContent = '';
    say(status, '');
    try {
      const r = await api(`/api/org/texts/${t.kind}`, { method: 'PUT', body: { title: title.value, body: body.value, base_version: base } });
      if (r.saved) {
        // The new version joins the history: draw both editors again, then say so.
        await load();
        say($('texts-status'), r.message, 'ok');
        return;
      }
      base = r.version;
      say(status, r.message, 'ok');
    } catch (e) {
      for (const f of e.fields || []) (f.field === 'title' ? errTitle : errBody).textContent = f.message;
      say(status, e.message, e.status === 409 ? 'warn' : 'error');
    }
  }

  return el('div', { class: 'texts-editor' },
    el('h3', { text: t.title }),
    info, warn,
    el('div', { class: 'field' }, el('label', { for: id('title'), text: 'Заголовок' }), title, errTitle),
    el('div', { class: 'field' }, el('label', { for: id('body'), text: 'Текст' }), body, errBody),
    el('div', { class: 'row' },
      readOnly ? null : el('button', { type: 'button', id: id('save'), text: 'Сохранить новую редакцию', onclick: save }),
      view),
    status, history);
}

async function load() {
  try {
    const { texts } = await api('/api/org/texts');
    $('texts').replaceChildren(...texts.map(editor));
    say($('texts-status'), '');
  } catch (e) {
    if (e.status !== 401) say($('texts-status'), e.message, 'error');
  }
}

async function start() {
  try {
    const { forum } = await api('/api/forum');
    when = dateIn(forum.timezone);
  } catch { /* dates in Moscow time then */ }
  const dash = $('dash');
  let loaded = false;
  new MutationObserver(() => {
    if (!dash.hidden && !loaded) { loaded = true; load(); }
  }).observe(dash, { attributes: true, attributeFilter: ['hidden'] });
  if (!dash.hidden) { loaded = true; load(); }
}

start();
