// A session's verdict as the rules engine gives it, for the player's «сессия завершена» panel
// and the viewer's results page. Nothing here decides anything: `eligible` and the reasons come
// from the server (`/api/me/results` or the tally); this only words and draws them.

import { el } from './common.js';

const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The headline of a verdict: [kind, text] for a notice. `phase` is `live` while the session
 * runs (the verdict is so far), `over` after it.
 */
export function verdictLine(result, phase) {
  if (!result) {
    return ['info', phase === 'over' ? 'Засчитанного времени в этой сессии нет.' : 'Засчитанного времени пока нет.'];
  }
  if (result.eligible) {
    return ['ok', phase === 'over' ? 'Условия сессии выполнены.' : 'Условия сессии уже выполнены.'];
  }
  return phase === 'over'
    ? ['warn', 'Условия сессии не выполнены.']
    : ['info', 'Условия сессии пока не выполнены.'];
}

/**
 * The reasons as a list. The rules give plain sentences, or `{ok, text}` where `ok` tells a
 * met condition from an unmet one; those get a mark, so passed checks read as passed.
 */
export function reasonsList(reasons) {
  const items = (reasons || []).map((r) => {
    if (typeof r === 'string') return el('li', { text: capital(r) });
    const ok = !!r.ok;
    return el('li', { class: ok ? 'met' : 'unmet' },
      el('span', { class: 'mark', 'aria-hidden': 'true', text: ok ? '✓' : '✗' }),
      el('span', { class: 'visually-hidden', text: ok ? 'Выполнено: ' : 'Не выполнено: ' }),
      capital(r.text || ''));
  });
  return el('ul', { class: 'reasons' }, items);
}
