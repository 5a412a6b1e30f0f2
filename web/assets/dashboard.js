// The organiser's page: sign-in, live halls and prompts, the day's viewer chart, session
// results with НМО codes, viewer search, link reissue, CSV import and one viewer's evidence.
// What the signed-in role may not use is not shown (access.js); accounts, the audit trail and
// the own password are in accounts.js and audit.js.

import { api, withForum, pageForum, el, say, clockIn, clockSecondsIn, dateTimeIn, zoneLabel, todayIn, EDUCATION, reasonList, promptStatus } from './common.js';
import { timeline } from './timeline.js';
import { DayChart } from './daychart.js';
import { dayMonth, sessionWhen } from './dates.js';
import { docLinks } from './viewerdocs.js';
import { ask } from './dialog.js';
import { setMe, may, me as signedIn } from './access.js';
import { decisionButton, decisionNote } from './appeals.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000;

const state = { programme: null, tz: 'Europe/Moscow', pollTimer: null, chart: null };

const hallTitle = (id) => state.programme?.halls.find((h) => h.id === id)?.title || id;
const sessions = () => state.programme.days.flatMap((d) => d.sessions.map((s) => ({ ...s, date: d.date })));
/** «1 апреля, 09:15–14:30 · Зал №1 · Наука и образование»: sessions of different days differ. */
const sessionTitle = (id) => {
  const s = sessions().find((x) => x.id === id);
  return s ? `${sessionWhen(s, s.date, hallTitle(s.hall), state.tz)} · ${s.title}` : id;
};

// ---- sign-in ----

async function init() {
  try {
    state.programme = await api('/api/forum');
  } catch (e) {
    // Several forums run and the address names none: show the first, the selector offers
    // the others.
    if (!pageForum && e.forums?.length) {
      location.replace(`/org?forum=${encodeURIComponent(e.forums[0].id)}`);
      return;
    }
    say($('page-status'), `Не удалось загрузить форум: ${e.message}`, 'error');
    return;
  }
  state.tz = state.programme.forum.timezone;
  $('forum-title').textContent = state.programme.forum.title;
  try {
    const me = await api('/api/org/me');
    showDashboard(me);
  } catch (e) {
    if (e.status === 401) showLogin();
    else say($('page-status'), e.message, 'error');
  }
}

function showLogin() {
  stopPolling();
  say($('page-status'), '');
  $('dash').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
  $('login').hidden = false;
  $('login-name').focus();
}

async function login(event) {
  event.preventDefault();
  say($('login-status'), '');
  $('login-submit').disabled = true;
  try {
    await api('/api/org/login', { method: 'POST', body: { login: $('login-name').value.trim(), password: $('login-password').value } });
    $('login-password').value = '';
    const me = await api('/api/org/me');
    // Another person on this page: start afresh, so nothing of the previous role lingers.
    if (signedIn() && signedIn().login !== me.login) { location.reload(); return; }
    showDashboard(me);
  } catch (e) {
    say($('login-status'), e.message, 'error');
    $('login-password').focus();
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logout() {
  try { await api('/api/org/logout', { method: 'POST' }); } catch { /* signed out either way */ }
  location.reload();
}

/** Any 401 while working means the session expired: back to the sign-in form. */
function guard(e, statusNode) {
  if (e.status === 401) showLogin();
  else say(statusNode, e.message, 'error');
}

function showDashboard(me) {
  // Before the dashboard shows: the other scripts read the role when it appears.
  setMe(me);
  $('login').hidden = true;
  say($('page-status'), '');
  $('dash').hidden = false;
  $('logout').hidden = false;
  $('who').textContent = me?.login ? `Вы вошли как ${me.login} (${me.role_title})` : '';
  $('tz-note').textContent = `Все времена на этой странице — по часовому поясу форума: ${zoneLabel(state.tz)}.`;
  fillSessions();
  loadChart().then(poll);
  search();
  fillForumPicker();
}

// ---- which forum the page shows, when the server runs several ----

/** With one forum running the header stays as it was; with several, a select reloads the
 *  page with `?forum=` (every request of the page then names that forum). */
async function fillForumPicker() {
  let forums;
  try {
    forums = (await api('/api/org/forums')).forums.filter((f) => f.served);
  } catch {
    return; // the page works on without it
  }
  if (forums.length < 2) return;
  const shown = state.programme.forum.id;
  $('forum-pick').replaceChildren(...forums.map((f) =>
    el('option', { value: f.id, selected: f.id === shown, text: `${f.title} · ${f.state_label}` })));
  $('forum-pick').value = shown;
  $('forum-title').hidden = true;
  $('forum-pick-wrap').hidden = false;
}

$('forum-pick').addEventListener('change', (e) => {
  location.assign(`/org?forum=${encodeURIComponent(e.target.value)}`);
});

// ---- live statistics ----

/**
 * The hub's statistics in the shape this page draws. The hub's JSON is still settling, so
 * every name it might use is mapped here and nowhere else.
 */
function adaptHub(hub = {}) {
  return {
    halls: (hub.halls || []).map((h) => ({
      hall: h.hall ?? h.id,
      viewers: h.viewers_now ?? h.viewers ?? 0,
      peak: h.peak ?? h.peak_viewers ?? 0,
      connections: h.connections ?? 0,
    })),
    prompts: (hub.prompts || []).map((p) => ({
      id: p.id ?? p.prompt,
      hall: p.hall,
      ts: p.ts,
      closes: p.closes,
      delivered: p.delivered ?? 0,
      confirmed: p.confirmed ?? 0,
    })),
  };
}

function stopPolling() {
  clearTimeout(state.pollTimer);
  state.pollTimer = null;
}

async function poll() {
  stopPolling();
  try {
    const stats = await api('/api/org/stats');
    const hub = adaptHub(stats.hub);
    renderHalls(hub.halls);
    renderPrompts(hub.prompts, stats.now);
    renderUpcoming(stats.upcoming || []);
    state.chart?.live(stats.now, hub.halls);
    const nodes = stats.hub?.nodes ?? 1;
    $('live-updated').textContent = `обновлено в ${clockSecondsIn(state.tz)(stats.now)}${nodes > 1 ? ` · серверов: ${nodes}` : ''}`;
    if (stats.hub?.broker_connected === false) {
      say($('live-status'), 'Нет связи между серверами (Redis): зрители на связи и учёт идёт, но окна подтверждения с этого сервера видят только его зрители, а цифры — только его.', 'error');
    } else if ($('live-status').dataset.kind === 'error') say($('live-status'), '');
  } catch (e) {
    if (e.status === 401) { showLogin(); return; }
    say($('live-status'), `Статистика не обновляется: ${e.message}`, 'error');
  }
  state.pollTimer = setTimeout(poll, POLL_MS);
}

function renderHalls(live) {
  const byHall = Object.fromEntries(live.map((h) => [h.hall, h]));
  $('hall-stats').replaceChildren(...state.programme.halls.map((hall) => {
    const h = byHall[hall.id] || { viewers: 0, peak: 0, connections: 0 };
    return el('div', { class: 'hall-stat' },
      el('h3', { text: hall.title }),
      el('div', { class: 'big-number', text: String(h.viewers) }),
      el('div', { class: 'muted small', text: `зрителей сейчас · пик ${h.peak} · соединений ${h.connections}` }),
      may('operate') ? el('button', { type: 'button', class: 'small', style: 'margin-top:.75rem', onclick: () => firePrompt(hall) }, 'Запросить подтверждение сейчас') : null);
  }));
}

async function firePrompt(hall) {
  if (!(await ask({ title: 'Запросить подтверждение участия?', text: `Окно «Подтвердить участие» появится у всех зрителей зала «${hall.title}».`, confirm: 'Показать окно' }))) return;
  try {
    const p = await api('/api/org/prompts', { method: 'POST', body: { hall: hall.id } });
    say($('live-status'), `Окно подтверждения отправлено в «${hall.title}», закроется в ${clockSecondsIn(state.tz)(p.closes)}.`, 'ok');
    poll();
  } catch (e) {
    guard(e, $('live-status'));
  }
}

function renderPrompts(prompts, now) {
  const clock = clockIn(state.tz);
  const rows = [...prompts].sort((a, b) => b.ts - a.ts).map((p) => {
    const rate = p.delivered ? Math.round((p.confirmed / p.delivered) * 100) : null;
    const open = p.closes > now;
    return el('tr', {},
      el('td', {}, clock(p.ts), open ? el('span', { class: 'badge warn', style: 'margin-left:.4em', text: 'открыто' }) : null),
      el('td', { text: hallTitle(p.hall) }),
      el('td', { class: 'num', text: String(p.delivered) }),
      el('td', { class: 'num', text: String(p.confirmed) }),
      el('td', { class: 'num', text: rate === null ? '—' : `${rate}%` }));
  });
  $('prompts-body').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'Окон подтверждения пока не было.')]));
}

function renderUpcoming(upcoming) {
  const clock = clockIn(state.tz);
  const rows = upcoming.map((u) => el('tr', {},
    el('td', { text: clock(u.at) }),
    el('td', { text: hallTitle(u.hall) }),
    el('td', { text: `${sessions().find((s) => s.id === u.session)?.title || u.session}, №${u.index + 1}` }),
    el('td', { class: 'num', text: `${Math.round(u.window_ms / 60_000 * 10) / 10} мин` })));
  $('upcoming-body').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'Запланированных окон нет.')]));
}

const emptyRow = (cols, text) => el('tr', {}, el('td', { colspan: cols, class: 'muted', text }));

// ---- the day's chart (daychart.js): the store's history, then the live figures ----

const HALL_COLOURS = ['#1d5aa6', '#c05a00', '#6a3d9a', '#1b7f79', '#a4231b'];

async function loadChart() {
  // The chart once kept its own samples in the browser; the server keeps the day now.
  for (const key of Object.keys(localStorage)) if (key.startsWith('yavka:samples:')) localStorage.removeItem(key);
  state.chart ??= new DayChart({ box: $('chart'), note: $('chart-note'), tz: state.tz, halls: state.programme.halls, colours: HALL_COLOURS });
  try {
    await state.chart.load();
  } catch (e) {
    if (e.status === 401) showLogin();
    else $('chart-note').textContent = `История за день не загрузилась: ${e.message} Новые минуты добавляются.`;
  }
}

// ---- results and codes ----

function fillSessions() {
  const select = $('session');
  select.replaceChildren(...state.programme.days.map((d) => el('optgroup', { label: dayMonth(d.date, state.tz) },
    d.sessions.map((s) => el('option', { value: s.id, text: sessionTitle(s.id) })))));
  const now = Date.now();
  const current = sessions().find((s) => s.starts <= now && now < s.ends) || sessions().filter((s) => s.ends <= now).pop();
  if (current) select.value = current.id;
  updateCsvLink();
}

function updateCsvLink() {
  const q = new URLSearchParams({ session: $('session').value, delimiter: ';' });
  $('results-csv').href = withForum(`/api/org/results.csv?${q}`);
}

async function loadResults() {
  const session = $('session').value;
  say($('results-status'), 'Считаем…');
  try {
    const { rows } = await api(`/api/org/results?session=${encodeURIComponent(session)}`);
    const eligible = rows.filter((r) => r.eligible).length;
    say($('results-status'), `${sessionTitle(session)}: участников ${rows.length}, выполнили условия ${eligible}.`, 'info');
    $('results-body').replaceChildren(...(rows.length ? rows.map(resultRow) : [emptyRow(8, 'В этой сессии пока никого нет.')]));
  } catch (e) {
    guard(e, $('results-status'));
  }
}

function resultRow(r) {
  return el('tr', {},
    el('td', {}, el('div', { text: r.name || r.viewer }), el('div', { class: 'muted small', text: r.email || '' })),
    el('td', { text: r.specialty ? `${r.specialty} (${EDUCATION[r.education] || r.education})` : '—' }),
    el('td', { class: 'num', text: String(r.minutes) }),
    el('td', { class: 'small', text: r.confirmations }),
    el('td', {}, el('span', { class: `badge ${r.eligible ? 'ok' : 'bad'}`, text: r.eligible ? 'выполнил' : 'не выполнил' }),
      r.decision ? el('div', { class: 'small', text: `решение организатора: ${r.decision.title}` }) : null,
      r.code_issued_withdrawn ? el('span', { class: 'badge bad', text: 'код уже выдан' }) : null),
    el('td', { class: 'small' }, r.reasons?.length ? reasonList(r.reasons) : '—'),
    el('td', { style: 'font-family:monospace', text: r.code || '—' }),
    el('td', {}, el('div', { class: 'row row-tight' },
      el('button', { type: 'button', class: 'secondary small', onclick: () => showEvidence(r.viewer) }, 'Доказательства'),
      ...docLinks(r.viewer, r.name, r.code ? 1 : 0))));
}

async function importPool() {
  const session = $('session').value;
  try {
    const r = await api(`/api/org/codes/pool?session=${encodeURIComponent(session)}`, { method: 'POST', body: $('pool').value });
    say($('codes-status'), `Добавлено кодов: ${r.added}. В пуле: ${r.size}, свободно: ${r.left}.`, 'ok');
    $('pool').value = '';
  } catch (e) {
    guard(e, $('codes-status'));
  }
}

async function issueCodes() {
  const session = $('session').value;
  if (!(await ask({ title: 'Выдать коды НМО?', text: `Всем, кто выполнил условия сессии «${sessionTitle(session)}» и ещё не получил код.`, confirm: 'Выдать коды' }))) return;
  try {
    const r = await api(`/api/org/codes/issue?session=${encodeURIComponent(session)}`, { method: 'POST' });
    say($('codes-status'), `Выполнили условия: ${r.eligible}. Выдано сейчас: ${r.issued_now}.`, 'ok');
    loadResults();
  } catch (e) {
    guard(e, $('codes-status'));
  }
}

// ---- viewers ----

async function search(event) {
  event?.preventDefault();
  const q = $('q').value.trim();
  try {
    const r = await api(`/api/org/viewers?q=${encodeURIComponent(q)}`);
    $('search-status').textContent = `Найдено: ${r.viewers.length} (всего зарегистрировано ${r.total}).`;
    $('viewers-body').replaceChildren(...(r.viewers.length ? r.viewers.map(viewerRow) : [emptyRow(5, 'Никого не нашли.')]));
  } catch (e) {
    guard(e, $('search-status'));
  }
}

function viewerRow(v) {
  const linkCell = el('div');
  const [report, certificate] = docLinks(v.id, v.name, v.codes ?? 0);
  return el('tr', {},
    el('td', { text: v.name }),
    el('td', { text: v.email }),
    el('td', { text: v.phone || '' }),
    el('td', { text: `${v.specialty} (${EDUCATION[v.education] || v.education})` }),
    el('td', {},
      el('div', { class: 'row row-tight' },
        el('button', { type: 'button', class: 'secondary small', onclick: () => showEvidence(v.id) }, 'Доказательства'),
        report,
        may('manage') ? el('button', { type: 'button', class: 'secondary small', onclick: () => reissue(v, linkCell) }, 'Новая ссылка') : null,
        certificate),
      linkCell));
}

async function reissue(v, cell) {
  if (!(await ask({ title: 'Выдать новую ссылку?', text: `Участнику ${v.name}. Старая ссылка перестанет работать, открытые вкладки закроются.`, confirm: 'Выдать новую ссылку' }))) return;
  try {
    const { link } = await api(`/api/org/viewers/${encodeURIComponent(v.id)}/link`, { method: 'POST' });
    const input = el('input', { type: 'text', readonly: true, value: link, 'aria-label': `Новая ссылка: ${v.name}`, onfocus: (e) => e.target.select() });
    cell.replaceChildren(el('p', { class: 'small', style: 'margin:.5em 0 .2em', text: 'Новая ссылка (отправьте её участнику):' }), input);
    input.focus();
  } catch (e) {
    cell.replaceChildren(el('p', { class: 'field-error', text: e.message }));
    if (e.status === 401) showLogin();
  }
}

async function importViewers() {
  const out = $('import-result');
  // The file goes as it is, not as text: a table saved by Russian Excel is in Windows-1251,
  // which the server recognises and the browser would garble.
  const file = $('import-file').files[0];
  const body = file || $('import-text').value;
  if (!file && !body.trim()) {
    out.replaceChildren(el('p', { class: 'notice', dataset: { kind: 'warn' }, text: 'Выберите файл или вставьте текст CSV.' }));
    return;
  }
  try {
    const r = await api('/api/org/viewers/import', { method: 'POST', body, type: 'text/csv' });
    const encoding = r.encoding === 'windows-1251' ? ' Файл прочитан в кодировке Windows-1251.' : '';
    out.replaceChildren(...[
      el('p', { class: 'notice', dataset: { kind: 'ok' }, text: `Создано: ${r.created.length}. Пропущено (уже зарегистрированы): ${r.skipped.length}.${encoding}` }),
      r.created.length ? el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'Строка' }), el('th', { text: 'ФИО' }), el('th', { text: 'E-mail' }), el('th', { text: 'Личная ссылка' }))),
        el('tbody', {}, r.created.map((c) => el('tr', {},
          el('td', { class: 'num', text: String(c.line) }), el('td', { text: c.name }), el('td', { text: c.email }),
          el('td', { class: 'small', style: 'word-break:break-all', text: c.link })))))) : null,
      r.skipped.length ? el('ul', {}, r.skipped.map((s) => el('li', { text: `строка ${s.line}: ${s.message}` }))) : null,
    ].filter(Boolean));
    search();
  } catch (e) {
    if (e.status === 401) { showLogin(); return; }
    out.replaceChildren(...[
      el('p', { class: 'notice', dataset: { kind: 'error' }, text: e.message }),
      e.fields.length ? el('ul', { class: 'field-error' }, e.fields.map((f) => el('li', { text: f.message }))) : null,
    ].filter(Boolean));
  }
}

// ---- one viewer's evidence trail ----

async function showEvidence(id) {
  const section = $('evidence');
  const body = $('evidence-body');
  section.hidden = false;
  body.replaceChildren(el('p', { class: 'muted', text: 'Загружаем…' }));
  section.scrollIntoView({ behavior: 'smooth', block: 'start' });
  section.focus({ preventScroll: true });
  let ev;
  try {
    ev = await api(`/api/org/viewers/${encodeURIComponent(id)}/evidence`);
  } catch (e) {
    body.replaceChildren(el('p', { class: 'notice', dataset: { kind: 'error' }, text: e.message }));
    if (e.status === 401) showLogin();
    return;
  }
  const v = ev.viewer || {};
  const at = dateTimeIn(state.tz);
  // Every status, label and reason below is the rules' own (the same words as the printable
  // report, the export and the viewer's tally): this page only lays them out.
  body.replaceChildren(
    el('p', {}, el('strong', { text: v.name || id }), ` · ${v.email || ''} · ${v.phone || ''} · ${v.specialty || ''} (${EDUCATION[v.education] || v.education || ''}) · id ${v.id || id}`),
    el('p', { class: 'muted small', text: `Время — ${zoneLabel(state.tz)}.` }),
    timeline(ev, { tz: state.tz, hallTitle, sessions: sessions(), colours: HALL_COLOURS, halls: state.programme.halls.map((h) => h.id) }),
    el('h3', { style: 'margin-top:1rem', text: 'Сессии' }),
    // One block per session: the verdict and its conditions (which say the minutes and the
    // confirmations), readable on a phone without scrolling sideways.
    (ev.sessions || []).length
      ? el('div', {}, ev.sessions.map((s) => el('div', { class: 'session-result' },
        el('p', {}, el('strong', { text: sessionTitle(s.session) }), ' ',
          el('span', { class: `badge ${s.eligible ? 'ok' : 'bad'}`, text: s.eligible ? 'выполнил' : 'не выполнил' })),
        reasonList(s.reasons),
        decisionNote(s.decision, false),
        decisionButton(v, s.session, sessionTitle(s.session), () => showEvidence(id)))))
      : el('p', { class: 'muted', text: 'Ни в одной сессии нет засчитанного времени.' }),
    el('h3', { style: 'margin-top:1rem', text: 'Окна подтверждения' }),
    table(['Показано в зале', 'Итог для участника', 'Зал', 'Закрылось', 'Окно'], (ev.prompts || []).map((p) => [
      at(p.ts), promptStatus(p), hallTitle(p.hall), at(p.closes), p.prompt])),
    el('h3', { style: 'margin-top:1rem', text: 'Нажатия «Подтвердить»' }),
    table(['Нажатие', 'Окно', 'Соединение', 'Проверка'], (ev.confirms || []).map((c) => [at(c.ts), c.prompt, c.conn, c.reason || String(c.check)])),
    ...(ev.wrong_answers?.length ? [el('h3', { style: 'margin-top:1rem', text: 'Неверные ответы на задание окна' }),
      table(['Время', 'Окно', 'Соединение'], ev.wrong_answers.map((w) => [at(w.ts), w.prompt, w.conn]))] : []),
    el('h3', { style: 'margin-top:1rem', text: 'Подключения' }),
    table(['Соединение', 'Зал', 'Начало', 'Конец', ''], (ev.connections || []).map((c) => [
      c.conn, hallTitle(c.hall), at(c.start), c.end ? at(c.end) : 'на связи', c.end && !c.closed ? 'оборвалось без закрытия' : ''])));
}

function table(headers, rows) {
  if (!rows.length) return el('p', { class: 'muted', text: 'Нет записей.' });
  return el('div', { class: 'table-wrap', style: 'margin-bottom:.75rem' }, el('table', {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { text: h })))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c)))))));
}

// ---- wiring ----

$('login-form').addEventListener('submit', login);
$('logout').addEventListener('click', logout);
$('session').addEventListener('change', updateCsvLink);
$('results-load').addEventListener('click', loadResults);
$('pool-import').addEventListener('click', importPool);
$('codes-issue').addEventListener('click', issueCodes);
$('search-form').addEventListener('submit', search);
$('import-send').addEventListener('click', importViewers);

init();
