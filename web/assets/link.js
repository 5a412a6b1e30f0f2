// The page of a personal link that does not work (served at /watch for such a link) and of
// «Прислать ссылку ещё раз» on its own (/link): a way forward instead of a dead end.

import { api } from './common.js';
import { setupRelink } from './relink.js';

const broken = location.pathname === '/watch';
document.getElementById('broken').hidden = !broken;
if (!broken) {
  const h = document.getElementById('relink-h');
  h.outerHTML = '<h1 id="relink-h">Прислать ссылку ещё раз</h1>';
}
document.querySelector('section.card').setAttribute('aria-labelledby', broken ? 'link-h' : 'relink-h');
if (!broken) document.title = 'Прислать ссылку ещё раз — Явка';
setupRelink();

api('/api/forum')
  .then(({ forum }) => { document.getElementById('forum-title').textContent = forum.title; })
  .catch(() => { /* the title is decoration */ });
