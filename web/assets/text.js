// One consent text (/texts/personal-data or /texts/terms), the current version or, with
// ?version=N, the one a participant accepted: every version stays readable.

import { api, el, say, pageForum } from './common.js';
import { renderText, dateIn } from './consent.js';

const $ = (id) => document.getElementById(id);
const kind = location.pathname.split('/').pop();
const version = new URLSearchParams(location.search).get('version');

async function start() {
  let tz = 'Europe/Moscow';
  try {
    const { forum } = await api('/api/forum');
    tz = forum.timezone;
    $('forum-title').textContent = forum.title;
  } catch { /* the text still shows */ }
  let t;
  try {
    t = await api(`/api/texts/${encodeURIComponent(kind)}${version ? `?version=${encodeURIComponent(version)}` : ''}`);
  } catch (e) {
    $('doc-h').textContent = 'Текст не найден';
    say($('doc-status'), e.message, 'error');
    return;
  }
  document.title = `${t.title} — Явка`;
  $('doc-h').textContent = t.title;
  const when = dateIn(tz)(t.created_at);
  $('doc-meta').textContent = `Редакция ${t.version} от ${when}`;
  if (t.version !== t.current) {
    $('doc-status').replaceChildren('Это прежняя редакция. ',
      el('a', { href: `/texts/${kind}${pageForum ? `?forum=${encodeURIComponent(pageForum)}` : ''}`, text: `Действующая — редакция ${t.current}` }), '.');
    $('doc-status').dataset.kind = 'warn';
    $('doc-status').hidden = false;
  }
  $('doc-body').replaceChildren(...renderText(t.body));
}

start();
