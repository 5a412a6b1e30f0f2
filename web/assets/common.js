// Helpers shared by the three pages: JSON requests with the server's Russian errors, times in
// the forum's own time zone, and a tiny DOM builder that never parses HTML (so names and
// messages from the server cannot inject markup).

/** An HTTP error with the server's message and, for 422, the per-field messages. */
export class ApiError extends Error {
  constructor(status, message, fields = [], forums = []) {
    super(message);
    this.status = status;
    this.fields = fields;
    /** When several forums run and the request named none: the ones to choose from. */
    this.forums = forums;
  }
}

/**
 * The forum this page is for: `?forum=ID` in its address (`/?forum=…`, `/org?forum=…`). A
 * server may run several forums; every API request of the page then names this one.
 */
export const pageForum = new URLSearchParams(location.search).get('forum');

/** `path` naming the page's forum (for API requests and download links). */
export function withForum(path) {
  if (!pageForum || !path.startsWith('/api/') || /[?&]forum=/.test(path)) return path;
  return `${path}${path.includes('?') ? '&' : '?'}forum=${encodeURIComponent(pageForum)}`;
}

/**
 * Fetches JSON. `body` is sent as JSON unless it is a string or a file: those go as they are,
 * with the content type `type` (plain text by default; the server accepts on each endpoint
 * only the type it documents, e.g. `text/csv` for the viewer import). Throws ApiError with
 * the server's `{error}` text, or a Russian fallback.
 */
export async function api(path, { method = 'GET', body, type } = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    const raw = typeof body === 'string' || body instanceof Blob;
    init.headers['Content-Type'] = raw ? (type || 'text/plain; charset=utf-8') : 'application/json';
    init.body = raw ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(withForum(path), init);
  } catch {
    throw new ApiError(0, 'Нет связи с сервером. Проверьте интернет и попробуйте ещё раз.');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const message = data?.error || `Сервер ответил ошибкой ${res.status}. Попробуйте ещё раз.`;
    throw new ApiError(res.status, message, data?.fields || [], data?.forums || []);
  }
  return data;
}

/**
 * Creates an element. `attrs` keys: `class`, `text`, `on<event>` handlers, `dataset`, boolean
 * attributes (true/false), anything else as an attribute. Children may be strings or nodes.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** Formats Unix milliseconds in a time zone; the zone is always the forum's, never the device's. */
export function formatter(timeZone, options) {
  const f = new Intl.DateTimeFormat('ru-RU', { timeZone, ...options });
  return (ms) => (ms === null || ms === undefined ? '—' : f.format(new Date(ms)));
}

export const clockIn = (tz) => formatter(tz, { hour: '2-digit', minute: '2-digit' });
export const clockSecondsIn = (tz) =>
  formatter(tz, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const dateTimeIn = (tz) =>
  formatter(tz, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** "Europe/Moscow (GMT+3)": organisers must see which zone a time is in. */
export function zoneLabel(tz) {
  const part = new Intl.DateTimeFormat('ru-RU', { timeZone: tz, timeZoneName: 'shortOffset' })
    .formatToParts(new Date())
    .find((p) => p.type === 'timeZoneName');
  return part ? `${tz} (${part.value})` : tz;
}

/**
 * "2026-04-01" → "Среда, 1 апреля 2026". The year is always there: a programme read in
 * another year (a past forum, next year's announcement) must not look like this week's. The
 * date is a calendar date; UTC noon avoids zone shifts.
 */
export function dayTitle(isoDate) {
  const d = new Date(`${isoDate}T12:00:00Z`);
  return new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', year: 'numeric', weekday: 'long', timeZone: 'UTC' })
    .format(d)
    .replace(/\s*г\.$/, '')
    .replace(/^./, (c) => c.toUpperCase());
}

/** Today's date (YYYY-MM-DD) in a time zone. */
export function todayIn(tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date());
}

export const EDUCATION = { higher: 'высшее', secondary: 'среднее' };

/** Russian plural: plural(5, 'минута', 'минуты', 'минут') → 'минут'. */
export function plural(n, one, few, many) {
  const m10 = n % 10;
  const m100 = n % 100;
  if (m10 === 1 && m100 !== 11) return one;
  if (m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14)) return few;
  return many;
}

/** The session's accredited specialties as one readable line per education level. */
export function audienceLines(audience) {
  const lines = [];
  if (audience?.higher?.length) lines.push(['Врачи (высшее образование)', audience.higher]);
  if (audience?.secondary?.length) lines.push(['Средний медперсонал', audience.secondary]);
  return lines;
}

/** Shows a message in a status element (role=status or role=alert set in the HTML). */
export function say(node, message, kind = 'info') {
  node.textContent = message || '';
  node.dataset.kind = kind;
  node.hidden = !message;
}

/**
 * A verdict's reasons as a list, each marked met (✓) or not (✗). The words and the marks come
 * from the rules on the server; pages compute none of them.
 */
export function reasonList(reasons) {
  return el('ul', { class: 'checks' }, (reasons || []).map((r) => el('li', { class: r.ok ? 'ok' : 'bad' },
    el('span', { class: 'mark', 'aria-hidden': 'true', text: r.ok ? '✓' : '✗' }),
    el('span', { class: 'visually-hidden', text: r.ok ? 'Выполнено: ' : 'Не выполнено: ' }),
    r.text)));
}

/** One prompt's status as the rules word it («Подтверждено в 11:09:12», «Не показано: …»). */
export function promptStatus(p) {
  return el('span', { class: `status ${p.status}`, text: p.label });
}
