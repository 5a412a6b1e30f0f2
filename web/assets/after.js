// What the player says when its hall has no session running: the session that ended, its
// result as the rules give it, when and how НМО codes come, a link to the viewer's own results
// page, and when the hall's next session starts.
//
// The result is the server's. A tally about the ended session that carries the rules' verdict
// (`session_over`, `eligible`, `reasons`) is used as it is; otherwise `/api/me/results` is
// asked, a little after the end (the last heartbeats must be recorded first) and at a random
// moment, so that a hall of thousands does not ask in the same second. Until then the last
// tally's numbers are shown, without a verdict.

import { api, el, say, clockIn, plural } from './common.js';
import { verdictLine, reasonsList } from './verdict.js';
import { decisionLine } from './appeal.js';

const $ = (id) => document.getElementById(id);
const sameDay = (tz, a, b) => {
  const f = new Intl.DateTimeFormat('en-CA', { timeZone: tz });
  return f.format(new Date(a)) === f.format(new Date(b));
};

/** Where `sessions` (one hall's, any order) stand at `now`: the running one, the last ended, the next. */
export function hallPhase(sessions, now) {
  const sorted = [...sessions].sort((a, b) => a.starts - b.starts);
  return {
    current: sorted.find((s) => s.starts <= now && now < s.ends) || null,
    prev: sorted.filter((s) => s.ends <= now).pop() || null,
    next: sorted.find((s) => s.starts > now) || null,
  };
}

/** «в 12:10» today, «2 апреля в 09:15» another day. */
export function whenStarts(tz, s, now) {
  const clock = clockIn(tz)(s.starts);
  if (sameDay(tz, s.starts, now)) return `в ${clock}`;
  const day = new Intl.DateTimeFormat('ru-RU', { timeZone: tz, day: 'numeric', month: 'long' }).format(new Date(s.starts));
  return `${day} в ${clock}`;
}

export function createAfter({ token, tz, codesNote, codes, serverNow, tallyFor }) {
  const box = $('after');
  const results = new Map(); // session id → {result, as_of} from /api/me/results
  let shownFor = null; // the ended session the panel is about
  let fetchTimer = null;

  function schedule(prev) {
    clearTimeout(fetchTimer);
    const since = serverNow() - prev.ends;
    const wait = since < 30_000 ? prev.ends + 25_000 + Math.random() * 20_000 - serverNow() : Math.random() * 2_000;
    fetchTimer = setTimeout(() => load(prev), Math.max(0, wait));
  }

  async function load(prev) {
    try {
      const data = await api(`/api/me/results?token=${encodeURIComponent(token)}`);
      // Only ended sessions: a verdict taken while a session ran is not its result.
      for (const s of data.sessions.filter((x) => x.phase === 'over')) {
        results.set(s.id, { result: s.result, code: s.code, decision: s.decision, as_of: data.now });
      }
      if (shownFor?.id !== prev.id) return;
      render(prev);
      // The server's clock had not reached the end yet: ask again a little later.
      if (!results.has(prev.id)) fetchTimer = setTimeout(() => load(prev), 15_000);
    } catch (e) {
      // The panel keeps the tally's numbers meanwhile; a later try may work.
      if (e.status !== 401) fetchTimer = setTimeout(() => load(prev), 30_000);
    }
  }

  /** The ended session's verdict from the rules: the tally's if it has one, else the API's. */
  function verdict(prev) {
    const t = tallyFor(prev.id);
    if (t?.session_over && typeof t.eligible === 'boolean') {
      return { result: { eligible: t.eligible, reasons: t.reasons }, as_of: t.as_of };
    }
    return results.get(prev.id) || null;
  }

  let drawn = ''; // what the panel shows now, so that a redraw every second changes nothing

  function render(prev) {
    const now = serverNow();
    const t = tallyFor(prev.id);
    const v = verdict(prev);
    const code = results.get(prev.id)?.code || codes.find((c) => c.session === prev.id)?.code;
    // An organiser's decision wins over the rules' verdict; it is shown beside it.
    const decision = results.get(prev.id)?.decision || null;
    const sig = JSON.stringify([prev.id, v, code, decision, t?.as_of, sameDay(tz, prev.ends, now)]);
    if (sig === drawn) return;
    drawn = sig;
    const clock = clockIn(tz);
    const day = sameDay(tz, prev.ends, now) ? '' : `${new Intl.DateTimeFormat('ru-RU', { timeZone: tz, day: 'numeric', month: 'long' }).format(new Date(prev.starts))}, `;
    $('after-session').textContent = `${day}${prev.time} · ${prev.title}`;
    const line = $('after-verdict');
    if (v) {
      const [kind, text] = verdictLine(v.result, 'over');
      say(line, text, kind);
      $('after-reasons').replaceChildren(v.result ? reasonsList(v.result.reasons) : '', decisionLine(decision) || '');
      $('after-asof').textContent = `Итог по данным на ${clock(v.as_of)}.`;
    } else if (t) {
      // A tally still counting when the session ended counted up to its end.
      const minutes = Math.floor((t.counted_ms + (t.counting ? Math.max(0, prev.ends - t.as_of) : 0)) / 60_000);
      say(line, `Подводим итог. По последним данным засчитано ${minutes} из ${Math.round(t.min_ms / 60_000)} мин, ${t.confirmed} ${plural(t.confirmed, 'подтверждение', 'подтверждения', 'подтверждений')} (нужно ${t.required}).`, 'info');
    } else {
      say(line, 'Подводим итог сессии…', 'info');
    }
    if (!v) {
      $('after-reasons').replaceChildren();
      $('after-asof').textContent = '';
    }
    $('after-code').hidden = !code;
    $('after-code-value').textContent = code || '';
    $('after-codes-note').hidden = !codesNote || !!code;
    $('after-codes-note-text').textContent = codesNote || '';
  }

  /**
   * Redraws for `phase` (from [`hallPhase`]); hides the panel while a session runs or before
   * the hall's first one. Returns whether the panel is shown.
   */
  function update(phase) {
    const { current, prev, next } = phase;
    if (current || !prev) {
      box.hidden = true;
      shownFor = null;
      clearTimeout(fetchTimer);
      return false;
    }
    if (shownFor?.id !== prev.id) {
      shownFor = prev;
      if (!results.has(prev.id)) schedule(prev);
    }
    render(prev);
    const text = next
      ? `Следующая сессия в этом зале начнётся ${whenStarts(tz, next, serverNow())}: «${next.title}».`
      : 'В этом зале сессий больше нет.';
    if ($('after-next').textContent !== text) $('after-next').textContent = text;
    box.hidden = false;
    return true;
  }

  $('after-link').href = `/my?token=${encodeURIComponent(token)}`;
  return { update };
}
