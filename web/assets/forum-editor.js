// The forum editor (/org/forums): the list of forums with their states and actions, and a
// form over the forum as JSON of the file's shape ({forum, hall: [], session: []}), the same
// document `PUT /api/org/forums/{id}` takes. Every check is the server's: «Проверить» and
// «Сохранить» send the document to /api/org/forums/check, and each problem is shown beside
// the field its path names (`session[0].min_minutes`), tied to it with aria-describedby.
// Nothing is saved while the check finds a problem.

import { api, el, say } from './common.js';
import { renderProgramme } from './programme.js';

const $ = (id) => document.getElementById(id);
const EDUCATION = [['higher', 'Высшее образование'], ['secondary', 'Среднее профессиональное']];
const FIELDS = {
  'forum.title': 'Название', 'forum.timezone': 'Часовой пояс (IANA)',
  'forum.prompt_window_seconds': 'Время на ответ, с', 'forum.prompt_min_gap_minutes': 'Промежуток между подтверждениями, мин',
};

const state = { forums: [], catalogue: { higher: [], secondary: [] }, doc: null, id: null, frozen: [] };

/** A field's element id from its path: `session[0].min_minutes` → `p-session-0-min_minutes`. */
const idOf = (path) => `p-${path.replace(/[[\].]+/g, '-').replace(/-$/, '')}`;

async function send(path, method, body) {
  const res = await fetch(path, {
    method, credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': typeof body === 'string' ? 'application/toml' : 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, data: await res.json().catch(() => ({})) };
}

// ---- the list ----

async function loadForums() {
  const { forums } = await api('/api/org/forums');
  state.forums = forums;
  $('forum-rows').replaceChildren(...forums.map(row));
  $('copy-from').replaceChildren(...forums.map((f) => el('option', { value: f.id, text: `${f.title} (${f.id})` })));
}

function row(f) {
  const action = (label, to) => el('button', { type: 'button', class: 'secondary small', text: label,
    onclick: () => setState(f, to) });
  const actions = [el('button', { type: 'button', class: 'small', text: 'Открыть', 'aria-label': `Открыть ${f.title}`, onclick: () => open(f.id) })];
  if (f.state === 'draft') actions.push(action('Открыть регистрацию', 'registration'));
  if (f.state === 'registration') actions.push(action('В черновик', 'draft'));
  if (f.state === 'finished') actions.push(action('В архив', 'archived'));
  if (f.state === 'archived') actions.push(action('Из архива', 'finished'));
  const over = f.state === 'finished' || f.state === 'archived';
  return el('tr', { dataset: { forum: f.id } },
    el('td', {}, el('b', { text: f.title }), el('div', { class: 'muted small', text: f.id })),
    el('td', { text: f.dates.starts_local ? `${f.dates.starts_local.slice(0, 10)} — ${f.dates.ends_local.slice(0, 10)}` : '—' }),
    el('td', { text: f.state_label }),
    el('td', { class: 'retention' }, retention(f.personal_data)),
    el('td', {}, el('div', { class: 'row-tight' }, actions), over && !f.personal_data?.removed_at ? purgeForm(f) : null));
}

/** When the forum's personal data goes, as the server computes it (`retention`). */
function retention(p) {
  if (!p) return '—';
  const day = (local) => local.slice(0, 10).split('-').reverse().join('.');
  if (p.removed_local) return `удалены ${day(p.removed_local)}`;
  if (!p.due_local) return `хранятся ${p.keep_years} лет после последней сессии`;
  return `хранятся до ${day(p.due_local)} (${p.keep_years} лет после последней сессии)`;
}

/** Removing a finished forum's personal data now: its id typed again, as the API asks. */
function purgeForm(f) {
  const id = `purge-${f.id}`;
  const typed = el('input', { id, autocomplete: 'off', spellcheck: 'false' });
  const status = el('p', { class: 'small', role: 'status' });
  const form = el('form', { class: 'purge-form' },
    el('p', { class: 'small', text: 'Имена станут вида «И***а А. С.», почта, телефоны, СНИЛС и адреса подключений будут стёрты. Коды НМО и их проверка останутся. Отменить нельзя.' }),
    el('label', { for: id, text: `Введите id форума (${f.id}), чтобы подтвердить` }), typed,
    el('p', {}, el('button', { type: 'submit', class: 'small danger', text: 'Удалить персональные данные' })), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api(`/api/org/forums/${encodeURIComponent(f.id)}/personal-data/purge`, { method: 'POST', body: { confirm: typed.value.trim() } });
      say($('page-status'), r.message || 'Персональные данные удалены.', 'ok');
      await loadForums();
    } catch (err) {
      say(status, err.message, 'error');
      typed.focus();
    }
  });
  return el('details', {}, el('summary', { text: 'Удалить персональные данные…' }), form);
}

async function setState(f, to) {
  try {
    const r = await api(`/api/org/forums/${encodeURIComponent(f.id)}/state`, { method: 'POST', body: { state: to } });
    say($('page-status'), r.message, 'ok');
    await loadForums();
  } catch (e) { say($('page-status'), e.message, 'error'); }
}

// ---- the form ----

function emptyForum() {
  return {
    forum: { id: '', title: '', timezone: 'Europe/Moscow', prompt_window_seconds: 120, prompt_min_gap_minutes: 10 },
    hall: [{ id: 'hall-1', title: 'Зал №1', stream_url: '' }],
    session: [],
  };
}

function newSession(doc) {
  const day = doc.session.at(-1)?.starts?.slice(0, 10) || new Date().toISOString().slice(0, 10);
  return { id: `s${doc.session.length + 1}`, hall: doc.hall[0]?.id || '', title: '', starts: `${day}T10:00`, ends: `${day}T11:00`,
    credits: 1, min_minutes: 45, prompts: 2, prompts_required: 1, pause_on_missed: false, excluded: [], audience: { higher: [], secondary: [] } };
}

/** A labelled input bound to `obj[key]`, with its error line. */
function input(path, label, obj, key, { type = 'text', hint, min, list, wide } = {}) {
  const id = idOf(path);
  const number = type === 'number';
  const control = el('input', { id, type, min, list, value: obj[key] ?? '', 'aria-describedby': [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(' '),
    oninput: (e) => { obj[key] = number ? (e.target.value === '' ? null : Number(e.target.value)) : e.target.value; } });
  return el('div', { class: `field${wide ? ' wide' : ''}` },
    el('label', { for: id, text: label }), control,
    hint ? el('p', { class: 'hint small', id: `${id}-hint`, text: hint }) : null,
    el('p', { class: 'field-error', id: `${id}-error` }));
}

/** An error line for a part whose own fields are elsewhere (`session[0].audience`). */
const errorLine = (path) => el('p', { class: 'field-error', id: `${idOf(path)}-error` });

function render() {
  const doc = state.doc;
  const isNew = state.id === null;
  $('editor-h').textContent = isNew ? 'Новый форум' : `Форум «${doc.forum.title}»`;
  const general = el('div', { class: 'editor-grid' },
    isNew ? input('forum.id', 'Id форума (латиница, без пробелов)', doc.forum, 'id') : null,
    input('forum.title', FIELDS['forum.title'], doc.forum, 'title', { wide: true }),
    input('forum.timezone', FIELDS['forum.timezone'], doc.forum, 'timezone', { hint: 'Например Europe/Moscow; все времена формы — в этом поясе.' }),
    input('forum.prompt_window_seconds', FIELDS['forum.prompt_window_seconds'], doc.forum, 'prompt_window_seconds', { type: 'number', min: 1 }),
    input('forum.prompt_min_gap_minutes', FIELDS['forum.prompt_min_gap_minutes'], doc.forum, 'prompt_min_gap_minutes', { type: 'number', min: 0 }),
  );
  const halls = doc.hall.map((h, i) => el('fieldset', { class: 'editor-block' },
    el('legend', { text: `Зал ${i + 1}: ${h.title || h.id}` }),
    el('div', { class: 'editor-grid' },
      input(`hall[${i}].id`, 'Id зала', h, 'id'),
      input(`hall[${i}].title`, 'Название', h, 'title'),
      input(`hall[${i}].stream_url`, 'Адрес трансляции', h, 'stream_url', { type: 'url', wide: true,
        hint: 'Плейлист HLS (.m3u8) или страница встраиваемого плеера; его можно менять и во время трансляции.' })),
    el('button', { type: 'button', class: 'secondary small', text: 'Удалить зал', onclick: () => { doc.hall.splice(i, 1); render(); } })));
  const sessions = doc.session.map((s, i) => sessionBlock(s, i));
  $('editor-fields').replaceChildren(
    el('h3', { text: 'Общее' }), general, errorLine('forum'),
    el('h3', { text: 'Залы' }), ...halls, errorLine('hall'),
    el('button', { type: 'button', class: 'secondary', text: 'Добавить зал',
      onclick: () => { doc.hall.push({ id: `hall-${doc.hall.length + 1}`, title: `Зал №${doc.hall.length + 1}`, stream_url: '' }); render(); } }),
    el('h3', { text: 'Сессии' }), ...sessions, errorLine('session'),
    el('button', { type: 'button', class: 'secondary', text: 'Добавить сессию', onclick: () => { doc.session.push(newSession(doc)); render(); } }));
}

function sessionBlock(s, i) {
  const p = `session[${i}]`;
  const frozen = state.frozen.find((f) => f.id === s.id && f.frozen);
  const day = { value: s.starts?.slice(0, 10) || '' };
  const start = { value: s.starts?.slice(11) || '' };
  const end = { value: s.ends?.slice(11) || '' };
  const sync = () => {
    s.starts = `${day.value}T${start.value}`;
    s.ends = `${day.value}T${end.value}`;
    s.excluded = (s.excluded || []).map(([a, b]) => [`${day.value}T${a.slice(11)}`, `${day.value}T${b.slice(11)}`]);
  };
  const timeField = (path, label, holder, type) => {
    const id = idOf(path);
    return el('div', { class: 'field' }, el('label', { for: id, text: label }),
      el('input', { id, type, value: holder.value, required: true, 'aria-describedby': `${id}-error`,
        oninput: (e) => { holder.value = e.target.value; sync(); } }),
      el('p', { class: 'field-error', id: `${id}-error` }));
  };
  const hallId = idOf(`${p}.hall`);
  const hall = el('div', { class: 'field' }, el('label', { for: hallId, text: 'Зал' }),
    el('select', { id: hallId, 'aria-describedby': `${hallId}-error`, onchange: (e) => { s.hall = e.target.value; } },
      state.doc.hall.map((h) => el('option', { value: h.id, selected: h.id === s.hall, text: h.title || h.id }))),
    el('p', { class: 'field-error', id: `${hallId}-error` }));
  const suggested = () => `ЗЕТ × 45 = ${(s.credits || 0) * 45} мин`;
  const minimum = input(`${p}.min_minutes`, 'Минимум присутствия, мин', s, 'min_minutes', { type: 'number', min: 0, hint: suggested() });
  const credits = input(`${p}.credits`, 'ЗЕТ', s, 'credits', { type: 'number', min: 1 });
  credits.querySelector('input').addEventListener('input', () => { minimum.querySelector('.hint').textContent = suggested(); });
  minimum.append(el('button', { type: 'button', class: 'secondary small', text: 'Подставить ЗЕТ × 45',
    onclick: () => { s.min_minutes = (s.credits || 0) * 45; render(); } }));
  const pauseId = idOf(`${p}.pause_on_missed`);
  const excluded = el('div', { class: 'wide' }, el('h4', { text: 'Исключённые интервалы (спонсорские доклады, перерывы)' }),
    (s.excluded || []).map((range, k) => {
      const from = { value: range[0].slice(11) };
      const to = { value: range[1].slice(11) };
      const set = () => { s.excluded[k] = [`${day.value}T${from.value}`, `${day.value}T${to.value}`]; };
      const f = (holder, label, n) => {
        const id = `${idOf(`${p}.excluded`)}-${k}-${n}`;
        return el('div', { class: 'field' }, el('label', { for: id, text: label }),
          el('input', { id, type: 'time', value: holder.value, 'aria-describedby': `${idOf(`${p}.excluded`)}-error`, oninput: (e) => { holder.value = e.target.value; set(); } }));
      };
      return el('div', { class: 'excluded-row' }, f(from, 'С', 0), f(to, 'До', 1),
        el('button', { type: 'button', class: 'secondary small', text: 'Убрать', onclick: () => { s.excluded.splice(k, 1); render(); } }));
    }),
    el('button', { type: 'button', class: 'secondary small', text: 'Добавить интервал',
      onclick: () => { (s.excluded ||= []).push([s.starts, s.starts]); render(); } }),
    errorLine(`${p}.excluded`));
  const block = el('fieldset', { class: 'editor-block', disabled: Boolean(frozen), 'aria-describedby': frozen ? `${idOf(p)}-locked` : undefined },
    el('legend', { text: `Сессия ${i + 1}: ${s.title || s.id}` }),
    frozen ? el('p', { class: 'locked', id: `${idOf(p)}-locked`, text: `Заблокирована. ${frozen.reason}` }) : null,
    el('div', { class: 'editor-grid' },
      input(`${p}.id`, 'Id сессии', s, 'id'), hall,
      input(`${p}.title`, 'Название', s, 'title', { wide: true }),
      timeField(`${p}.day`, 'День', day, 'date'),
      timeField(`${p}.starts`, 'Начало', start, 'time'),
      timeField(`${p}.ends`, 'Конец', end, 'time'),
      credits,
      minimum,
      input(`${p}.prompts`, 'Подтверждений запланировано', s, 'prompts', { type: 'number', min: 0 }),
      input(`${p}.prompts_required`, 'Из них обязательных', s, 'prompts_required', { type: 'number', min: 0 }),
      input(`${p}.prompt_window_seconds`, 'Время на ответ, с (если не как у форума)', s, 'prompt_window_seconds', { type: 'number', min: 1 }),
      el('div', { class: 'field' }, el('label', {},
        el('input', { type: 'checkbox', id: pauseId, checked: Boolean(s.pause_on_missed), onchange: (e) => { s.pause_on_missed = e.target.checked; } }),
        ' Ставить плеер на паузу при пропущенном подтверждении')),
      excluded,
      audienceBlock(s, p)),
    errorLine(`${p}.prompts`), errorLine(p),
    el('button', { type: 'button', class: 'secondary small', text: 'Удалить сессию', onclick: () => { state.doc.session.splice(i, 1); render(); } }));
  return block;
}

/** The accredited audience per education level: chosen names, and a search in the catalogue. */
function audienceBlock(s, p) {
  s.audience ||= { higher: [], secondary: [] };
  return el('div', { class: 'wide' }, el('h4', { text: 'Аудитория (специальности из каталога)' }),
    EDUCATION.map(([level, title]) => {
      const path = `${p}.audience.${level}`;
      const id = idOf(path);
      const chosen = (s.audience[level] ||= []);
      const found = el('ul', { class: 'found', id: `${id}-found`, 'aria-label': `Найдено: ${title}` });
      const search = el('input', { id, type: 'search', placeholder: 'Начните вводить специальность', 'aria-describedby': `${id}-error`,
        oninput: (e) => {
          const q = e.target.value.trim().toLowerCase();
          const hits = q ? state.catalogue[level].filter((n) => n.toLowerCase().includes(q) && !chosen.includes(n)).slice(0, 8) : [];
          found.replaceChildren(...hits.map((n) => el('li', {}, el('button', { type: 'button', class: 'secondary small', text: n,
            onclick: () => { chosen.push(n); render(); document.getElementById(id)?.focus(); } }))));
        } });
      return el('div', { class: 'field' },
        el('label', { for: id, text: `${title}: поиск` }),
        el('ul', { class: 'chips', 'aria-label': `Выбрано: ${title}` }, chosen.map((n, k) => el('li', {},
          el('button', { type: 'button', class: 'secondary', 'aria-label': `Убрать ${n}`, text: `${n} ✕`,
            onclick: () => { chosen.splice(k, 1); render(); } })))),
        search, found, el('p', { class: 'field-error', id: `${id}-error` }));
    }),
    errorLine(`${p}.audience`));
}

/** Shows each problem beside its field (or the nearest part that has an error line). */
function showProblems(problems) {
  for (const node of document.querySelectorAll('#editor .field-error')) node.replaceChildren();
  for (const node of document.querySelectorAll('#editor [aria-invalid]')) node.removeAttribute('aria-invalid');
  for (const p of problems) {
    let path = p.path || '';
    let line = null;
    while (path && !(line = $(`${idOf(path)}-error`))) path = path.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
    if (!line) line = $('general-problems');
    // Beside its own field the message needs no «file: part, field» prefix; elsewhere it does.
    const own = path === p.path && /поле [^:]+: /.test(p.text);
    const text = own ? p.text.replace(/^.*?поле [^:]+: /, '') : p.text.replace(/^[^ ]*: /, '');
    line.append(el('span', { text }), ' ');
    $(idOf(path))?.setAttribute('aria-invalid', 'true');
  }
  const first = document.querySelector('#editor [aria-invalid="true"]');
  if (first) first.focus();
}

async function check() {
  const { status, data } = await send('/api/org/forums/check', 'POST', state.doc);
  if (status !== 200) throw new Error(data.error || 'Проверка не удалась.');
  state.frozen = data.sessions || [];
  if (data.preview) {
    renderProgramme($('preview'), data.preview);
    $('preview-card').hidden = false;
  }
  return data;
}

async function save(event) {
  event.preventDefault();
  const status = $('editor-status');
  try {
    const checked = await check();
    showProblems(checked.problems);
    if (!checked.ok) {
      say(status, `Ошибок: ${checked.problems.length}. Ничего не сохранено — исправьте отмеченные поля.`, 'error');
      return;
    }
    const isNew = state.id === null;
    const path = isNew ? '/api/org/forums' : `/api/org/forums/${encodeURIComponent(state.id)}`;
    const r = await send(path, isNew ? 'POST' : 'PUT', state.doc);
    if (r.status === 422) { showProblems(r.data.problems || []); say(status, r.data.error, 'error'); return; }
    if (r.status >= 400) { say(status, r.data.error || 'Не сохранилось.', 'error'); return; }
    state.id = r.data.id;
    await loadForums();
    $('editor-state').textContent = state.forums.find((x) => x.id === state.id)?.state_label || '';
    render();
    await loadVersions();
    say(status, r.data.message, 'ok');
  } catch (e) { say(status, e.message, 'error'); }
}

async function open(id) {
  const r = await api(`/api/org/forums/${encodeURIComponent(id)}`);
  edit(id, r.forum);
  const checked = await check();
  render();
  showProblems(checked.problems);
  await loadVersions();
}

function edit(id, doc) {
  state.id = id;
  state.doc = doc;
  state.frozen = [];
  const f = state.forums.find((x) => x.id === id);
  $('editor-state').textContent = f ? f.state_label : 'Черновик';
  $('editor').hidden = false;
  $('editor-status').hidden = true;
  $('general-problems').replaceChildren();
  $('versions-card').hidden = id === null;
  $('preview-card').hidden = true;
  render();
  $('editor-h').scrollIntoView();
}

async function loadVersions() {
  if (state.id === null) return;
  const base = `/api/org/forums/${encodeURIComponent(state.id)}`;
  const { versions } = await api(`${base}/versions`);
  $('versions-card').hidden = false;
  $('diff').hidden = true;
  $('versions').replaceChildren(...versions.slice().reverse().map((v) => el('li', {},
    `Версия ${v.version} — ${v.saved_by}, ${new Date(v.saved_at).toLocaleString('ru-RU')} `,
    el('a', { href: `${base}/versions/${v.version}`, download: `${state.id}-v${v.version}.toml`, text: 'скачать' }), ' ',
    el('button', { type: 'button', class: 'secondary small', text: 'что изменилось', onclick: async () => {
      const d = await api(`${base}/versions/${v.version}/diff`);
      $('diff').textContent = d.text || 'Без изменений.';
      $('diff').hidden = false;
    } }))));
}

async function upload(event) {
  const file = event.target.files[0];
  if (!file) return;
  const { status, data } = await send('/api/org/forums', 'POST', await file.text());
  event.target.value = '';
  if (status === 201) { say($('page-status'), data.message, 'ok'); await loadForums(); await open(data.id); return; }
  const lines = (data.problems || []).map((p) => p.text).join('\n');
  say($('page-status'), `${data.error || 'Файл не принят.'}${lines ? `\n${lines}` : ''}`, 'error');
}

async function copy(event) {
  event.preventDefault();
  try {
    const r = await api(`/api/org/forums/${encodeURIComponent($('copy-from').value)}/copy`, { method: 'POST',
      body: { id: $('copy-id').value, first_day: $('copy-day').value } });
    say($('page-status'), r.message, 'ok');
    await loadForums();
  } catch (e) { say($('page-status'), e.message, 'error'); }
}

async function start() {
  try {
    const me = await api('/api/org/me');
    $('who').textContent = me?.login ? `Вы вошли как ${me.login}` : '';
    [state.catalogue] = await Promise.all([api('/api/catalogue'), loadForums()]);
    $('page-status').hidden = true;
    $('forums').hidden = false;
  } catch (e) {
    say($('page-status'), e.status === 401 ? 'Войдите в панели организатора, затем вернитесь сюда.' : e.message, 'error');
    $('page-status').append(' ', el('a', { href: '/org', text: 'Войти' }));
  }
}

$('new-forum').addEventListener('click', () => edit(null, emptyForum()));
$('upload').addEventListener('change', upload);
$('copy-form').addEventListener('submit', copy);
$('editor').addEventListener('submit', save);
$('check').addEventListener('click', async () => {
  try {
    const checked = await check();
    render();
    showProblems(checked.problems);
    say($('editor-status'), checked.ok ? 'Ошибок нет.' : `Ошибок: ${checked.problems.length}.`, checked.ok ? 'ok' : 'error');
  } catch (e) { say($('editor-status'), e.message, 'error'); }
});
$('close').addEventListener('click', () => { $('editor').hidden = true; $('preview-card').hidden = true; $('versions-card').hidden = true; });
start();
