// The viewer's own results page (`/my?token=…`): every session of the forum with the rules'
// verdict so far and its reasons, the НМО code once issued, the certificate, and when and how
// codes come, the organiser's decision beside the rules' verdict, and the viewer's appeal
// (`appeal.js`). Everything shown comes from `/api/me/results`; the page decides nothing.

import { api, el, say, dayTitle, clockIn, EDUCATION, promptStatus } from './common.js';
import { verdictLine, reasonsList } from './verdict.js';
import { appealBlock, decisionLine } from './appeal.js';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token') || '';
const q = encodeURIComponent(token);
let refreshTimer = null;

const PHASE = {
  live: ['warn', 'идёт сейчас'],
  over: ['', 'завершена'],
  upcoming: ['', 'впереди'],
};

function sessionCard(s, tz) {
  const [badgeKind, badgeText] = PHASE[s.phase] || ['', s.phase];
  const body = [];
  if (s.phase === 'upcoming') {
    body.push(el('p', { class: 'muted', text: `Начнётся в ${clockIn(tz)(s.starts)}.` }));
  } else {
    const [kind, text] = verdictLine(s.result, s.phase);
    body.push(el('p', { class: 'notice verdict', dataset: { kind }, text }));
    if (s.result) body.push(reasonsList(s.result.reasons));
    // The prompts as the rules saw them: what an appeal is about, in the rules' own words.
    if (s.result?.prompts?.length) {
      body.push(el('details', { class: 'prompts' },
        el('summary', { text: `Окна «Подтвердить участие»: ${s.result.prompts.length}` }),
        el('ul', { class: 'reasons' }, s.result.prompts.map((p) =>
          el('li', {}, `${clockIn(tz)(p.ts)} — `, promptStatus(p))))));
    }
    // A decision that answers the appeal shown below is said once, in the answer.
    if (!s.decision || !s.appeal || s.decision.appeal !== s.appeal.id) body.push(decisionLine(s.decision));
    body.push(appealBlock(s, q, load));
  }
  if (s.code) body.push(el('p', {}, 'Код НМО за эту сессию: ', el('strong', { class: 'code', text: s.code })));
  if (!s.accredited && !s.result) {
    body.push(el('p', { class: 'muted small', text: 'Сессия не аккредитована для вашей специальности: баллы НМО за неё не начисляются.' }));
  }
  return el('article', { class: `session result${s.accredited ? '' : ' not-mine'}${s.phase === 'live' ? ' now' : ''}`, dataset: { session: s.id, phase: s.phase } },
    el('div', { class: 'row' },
      el('span', { class: 'time', text: s.time }),
      el('span', { class: 'muted', text: s.hall_title }),
      el('span', { class: 'spacer' }),
      el('span', { class: `badge ${badgeKind}`, text: badgeText })),
    el('h3', { class: 'name', text: s.title }),
    body);
}

function render(data) {
  const tz = data.forum.timezone;
  $('forum-title').textContent = data.forum.title;
  document.title = `Мои результаты — ${data.forum.title}`;
  const v = data.viewer;
  $('who').textContent = `${v.name} · ${v.specialty}, ${EDUCATION[v.education] || v.education} образование`;
  $('certificate').hidden = !data.codes_issued;
  $('certificate-link').href = `/api/me/certificate.pdf?token=${q}`;
  $('my-data-page').href = `/my/data?token=${q}`;
  $('my-data-json').href = `/api/me/data?token=${q}`;
  $('codes-note-card').hidden = !data.forum.codes_note;
  $('codes-note').textContent = data.forum.codes_note || '';
  const days = new Map();
  for (const s of data.sessions) {
    if (!days.has(s.date)) days.set(s.date, []);
    days.get(s.date).push(s);
  }
  $('days').replaceChildren(...[...days].map(([date, sessions]) =>
    el('section', { class: 'day', 'aria-label': dayTitle(date) },
      el('h2', { text: dayTitle(date) }),
      sessions.map((s) => sessionCard(s, tz)))));
  $('asof').textContent = `Данные на ${clockIn(tz)(data.now)} (${tz}).`;
  // While a session runs its verdict moves; the page follows it without a reload.
  clearTimeout(refreshTimer);
  if (data.sessions.some((s) => s.phase === 'live')) refreshTimer = setTimeout(refresh, 60_000);
}

/** The minute's refresh, put off while an appeal is being written (a redraw would lose it). */
function refresh() {
  if (document.querySelector('.appeal-form')) refreshTimer = setTimeout(refresh, 60_000);
  else load();
}

function showInvalid(message) {
  const msg = $('load-status');
  msg.dataset.kind = 'error';
  msg.hidden = false;
  msg.replaceChildren(
    el('strong', { text: message || 'Ссылка недействительна.' }), ' ',
    'Откройте страницу по личной ссылке из письма. Если вы ещё не регистрировались, ',
    el('a', { href: '/#register', text: 'зарегистрируйтесь' }), '.');
}

async function load() {
  try {
    const data = await api(`/api/me/results?token=${q}`);
    render(data);
    say($('load-status'), '');
    $('results').hidden = false;
  } catch (e) {
    if (e.status === 401) {
      $('results').hidden = true;
      showInvalid(e.message);
    } else {
      say($('load-status'), `${e.message} Обновите страницу через минуту.`, 'error');
    }
  }
}

$('watch-link').href = `/watch?token=${q}`;
$('refresh').addEventListener('click', load);
load();
