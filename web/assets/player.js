// The personal-link page: greeting, hall chooser, video, the hub connection with its status
// line, the running tally, the «Подтвердить участие» prompts (prompt.js), the video with its
// "does not load" message (video.js) and, between and after sessions, the result and what
// comes next (after.js).
//
// Presence is kept by the websocket itself. The server sends protocol-level pings and the
// browser answers them without running page JavaScript, so a hidden tab, whose timers Chrome
// throttles to about once a minute, still counts as present. This page therefore has no JS
// heartbeat; its timers only redraw numbers and countdowns, and do not matter when late.

import { api, el, say, clockIn, zoneLabel, todayIn, plural, EDUCATION, promptStatus } from './common.js';
import { renderProgramme, retitleHall } from './programme.js';
import { createPrompts } from './prompt.js';
import { loadVideo } from './video.js';
import { createAfter, hallPhase, whenStarts } from './after.js';

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token') || '';

const state = {
  me: null,
  tz: 'Europe/Moscow',
  hall: null,
  ws: null,
  attempt: 0,
  reconnectTimer: null,
  stopped: false, // a close code said reconnecting cannot help
  welcomed: false,
  paused: false,
  pausedFor: null, // the viewer's active hall while this tab is paused
  serverOffset: 0, // server clock minus this device's clock, from `welcome` and `pong`
  tally: null,
  tallies: new Map(), // the last tally of each session seen here, for the ended-session panel
  session: null, // SessionInfo of this hall from `welcome`
  video: null,
  switchedTimer: null, // hides «Трансляция переключена…» a while after it was said
  after: null,
};

const serverNow = () => Date.now() + state.serverOffset;
const halls = () => state.me.programme.halls;
const hallTitle = (id) => halls().find((h) => h.id === id)?.title || id;
const allSessions = () => state.me.programme.days.flatMap((d) => d.sessions);
const hallSessions = (hall) => allSessions().filter((s) => s.hall === hall);
const phaseNow = () => hallPhase(hallSessions(state.hall), serverNow());

const prompts = createPrompts({
  send,
  serverNow,
  tz: () => state.tz,
  onChange: () => { if (state.paused) renderPaused(); },
});

/** Time counts in this tab right now, as the last tally says (up to its session's end). */
function countingNow() {
  const t = state.tally;
  if (!t?.counting || state.paused || !state.welcomed) return false;
  const info = sessionById(t.session);
  return !info || serverNow() < info.ends;
}

// ---- status line ----

function setStatus(kind, text) {
  $('status').dataset.state = kind;
  $('status-text').textContent = text;
}

function refreshStatus() {
  if (state.stopped) return;
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.welcomed) {
    setStatus('offline', 'Нет связи — переподключаемся…');
    return;
  }
  if (state.paused) {
    setStatus('idle', 'На связи, но время сейчас не засчитывается: открыт другой зал или вкладка.');
    return;
  }
  if (countingNow()) {
    setStatus('counting', 'На связи — время засчитывается.');
    return;
  }
  const now = serverNow();
  const { current, prev, next } = phaseNow();
  if (current) {
    setStatus('idle', 'На связи, но время сейчас не засчитывается (перерыв или пропущенное подтверждение).');
  } else if (prev) {
    setStatus('over', next
      ? `Сессия завершена, время не засчитывается. Следующая начнётся ${whenStarts(state.tz, next, now)}.`
      : 'Сессия завершена, время больше не засчитывается.');
  } else if (next) {
    setStatus('idle', `На связи. Сессия начнётся ${whenStarts(state.tz, next, now)}, время пока не засчитывается.`);
  } else {
    setStatus('idle', 'На связи, но в этом зале нет сессий с баллами НМО.');
  }
}

// ---- the hub connection ----

function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const q = new URLSearchParams({ token, hall: state.hall });
  return `${scheme}://${location.host}/ws?${q}`;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  if (state.stopped) return;
  const ws = new WebSocket(wsUrl());
  state.ws = ws;
  state.welcomed = false;
  ws.onmessage = (ev) => {
    if (state.ws !== ws) return;
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    handle(msg);
  };
  ws.onclose = (ev) => {
    if (state.ws !== ws) return; // replaced on purpose (hall switch, «Смотреть здесь»)
    state.ws = null;
    state.welcomed = false;
    onClosed(ev);
  };
  refreshStatus();
}

/** Closes the current connection without triggering a reconnect, then opens a new one. */
function reconnectNow() {
  const old = state.ws;
  state.ws = null;
  old?.close(1000);
  state.attempt = 0;
  connect();
}

function onClosed(ev) {
  if (ev.code === 4401) {
    stop(ev.reason || 'Ссылка недействительна: возможно, организатор выдал вам новую.');
    showInvalid(ev.reason);
    return;
  }
  if (ev.code === 4404) {
    stop(`Зал «${hallTitle(state.hall)}» не найден. Выберите другой зал.`);
    return;
  }
  // Everything else (1001 restart, 1006 network, 1008 policy, 1011, 4408, 4409) is worth
  // retrying. The delay doubles up to 30 s, and a random part spreads thousands of viewers so
  // they do not all come back in the same second after a server restart.
  const ceiling = Math.min(30_000, 1000 * 2 ** state.attempt);
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  state.attempt += 1;
  state.reconnectTimer = setTimeout(connect, delay);
  refreshStatus();
}

function stop(message) {
  state.stopped = true;
  clearTimeout(state.reconnectTimer);
  setStatus('stopped', message);
}

function send(msg) {
  if (state.ws?.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(msg));
  return true;
}

function handle(msg) {
  if (typeof msg.now === 'number') state.serverOffset = msg.now - Date.now();
  switch (msg.type) {
    case 'welcome':
      state.welcomed = true;
      state.attempt = 0; // a connection that got this far proves the server is back
      state.session = msg.session || null;
      prompts.welcomed();
      // The newest connection is the viewer's active one: this tab is not paused.
      if (state.paused) setActive();
      if (msg.prompt) prompts.offer(msg.prompt, { paused: false });
      renderTally();
      break;
    case 'tally':
      state.tally = { ...msg, received: serverNow() };
      state.tallies.set(msg.session, state.tally);
      if (typeof msg.as_of === 'number') state.serverOffset = msg.as_of - Date.now();
      renderTally();
      break;
    case 'prompt':
      prompts.offer(msg, { paused: state.paused });
      break;
    case 'confirmed':
      prompts.confirmed(msg.prompt);
      break;
    case 'error':
      if (!prompts.error(msg, msg.message || 'Ошибка. Попробуйте ещё раз.')) {
        say($('load-status'), msg.message || 'Ошибка. Попробуйте ещё раз.', 'error');
      }
      break;
    case 'paused':
      setPaused(msg.active_hall);
      break;
    case 'resumed':
      setActive();
      break;
    case 'hall':
      hallChanged(msg.hall);
      break;
    default:
      break;
  }
  refreshStatus();
}

// ---- the organiser changed this hall's stream address or title during the broadcast ----

// The hall's title is shown anew in the tabs and the programme; only the video is loaded
// again: the socket stays open, so the time keeps counting.
function hallChanged(info) {
  const hall = halls().find((h) => h.id === info?.id);
  if (!hall) return;
  const moved = hall.stream_url !== info.stream_url;
  Object.assign(hall, info);
  renderHallTabs();
  retitleHall($('programme'), hall.id, hall.title);
  if (hall.id !== state.hall || !moved) return;
  state.video?.stop();
  state.video = loadVideo($('video'), hall, { counting: countingNow, note: $('video-note') });
  if (state.paused) state.video.pause();
  say($('video-switched'), 'Трансляция переключена на новый адрес.', 'info');
  clearTimeout(state.switchedTimer);
  state.switchedTimer = setTimeout(() => say($('video-switched'), ''), 20_000);
}

// ---- paused: another tab or hall is the active one ----

// The protocol sends a paused tab its hall's prompts too; they are held, never shown, and the
// overlay says a confirmation is going on here (see prompt.js).
function setPaused(activeHall) {
  state.paused = true;
  state.pausedFor = activeHall;
  prompts.pause();
  state.video?.pause(); // two playing tabs would talk over each other
  renderPaused();
  $('paused').hidden = false;
  $('watch-here').focus();
}

function setActive() {
  const was = state.paused;
  state.paused = false;
  state.pausedFor = null;
  $('paused').hidden = true;
  if (was) state.video?.resume();
  prompts.resume();
}

function renderPaused() {
  $('paused-h').textContent = `Просмотр идёт в другой вкладке (${hallTitle(state.pausedFor)})`;
  const held = prompts.held();
  const text = $('paused-text');
  if (held) {
    text.dataset.prompt = held.id;
    text.textContent = `В этом зале (${hallTitle(state.hall)}) сейчас идёт подтверждение участия, до ${clockIn(state.tz)(held.closes)}. Чтобы подтвердить его, нажмите «Смотреть здесь»: время будет засчитываться в этой вкладке, а другая остановится.`;
  } else {
    delete text.dataset.prompt;
    text.textContent = 'Время засчитывается там, где вы смотрите сейчас (в другой вкладке или на другом устройстве). Чтобы смотреть в этой вкладке, нажмите кнопку — та остановится.';
  }
}

// ---- tally ----

function sessionById(id) {
  return allSessions().find((s) => s.id === id);
}

function renderTally() {
  const t = state.tally;
  const info = t ? sessionById(t.session) : state.session && sessionById(state.session.id);
  const after = state.after?.update(phaseNow());
  $('tally-session').hidden = !!after;
  $('results-link-p').hidden = !!after; // the panel has its own link
  if (!info) {
    $('tally-session').textContent = 'В этом зале сейчас нет сессии с баллами НМО.';
    $('tally-body').hidden = true;
    return;
  }
  const now = serverNow();
  const when = now < info.starts ? 'Впереди' : now < info.ends ? 'Идёт' : 'Завершилась';
  $('tally-session').textContent = `${when}: ${info.time} · ${info.title}${info.accredited ? '' : ' (не аккредитована для вашей специальности)'}`;
  // After a session its result is in the panel above; the numbers would only repeat it.
  $('tally-body').hidden = !t || !!after;
  tickTally();
  renderTallyPrompts();
}

/** The session's prompts under the tally, each with the status and words the rules gave it. */
function renderTallyPrompts() {
  let box = $('tally-prompts');
  if (!box) {
    box = el('div', { id: 'tally-prompts', class: 'prompt-statuses' },
      el('div', { class: 'muted small', id: 'tally-prompts-h', text: 'Окна подтверждения этой сессии' }),
      el('ul', { 'aria-labelledby': 'tally-prompts-h' }));
    $('tally-body').append(box);
  }
  const prompts = state.tally?.prompts || [];
  const clock = clockIn(state.tz);
  box.hidden = !prompts.length;
  box.lastElementChild.replaceChildren(...prompts.map((p) => el('li', {}, el('span', { class: 'muted', text: `${clock(p.ts)} ` }), promptStatus(p))));
}

/** Redraws the tally, adding the time since the last `tally` while the server says it counts. */
function tickTally() {
  const t = state.tally;
  if (!t || $('tally-body').hidden) return;
  const info = sessionById(t.session);
  let counted = t.counted_ms;
  if (t.counting && !state.paused && state.ws) {
    const until = Math.min(serverNow(), info?.ends ?? Infinity);
    counted += Math.max(0, until - t.as_of);
  }
  const minutes = Math.floor(counted / 60_000);
  const min = Math.round(t.min_ms / 60_000);
  $('t-minutes').textContent = minutes;
  $('t-min').textContent = min;
  $('t-confirmed').textContent = t.confirmed;
  $('t-required').textContent = t.required;
  meter('m-minutes', minutes, min);
  meter('m-confirmed', t.confirmed, t.required);
  const needMinutes = Math.max(0, min - minutes);
  const needConfirms = Math.max(0, t.required - t.confirmed);
  const left = $('t-left');
  if (needMinutes || needConfirms) {
    const parts = [];
    if (needMinutes) parts.push(`${needMinutes} мин просмотра`);
    if (needConfirms) parts.push(`${needConfirms} ${plural(needConfirms, 'подтверждение', 'подтверждения', 'подтверждений')}`);
    say(left, `Ещё нужно: ${parts.join(' и ')}.`, 'info');
  } else if (t.eligible === true) {
    say(left, 'Условия сессии выполнены. Можно продолжать смотреть.', 'ok');
  } else if (t.eligible === false) {
    // The numbers are there but the rules say no (e.g. the specialty): their first unmet reason.
    const unmet = (t.reasons || []).find((r) => typeof r === 'object' && !r.ok);
    say(left, unmet ? `Условия не выполнены: ${unmet.text}` : 'Условия сессии пока не выполнены.', 'warn');
  } else {
    // No verdict in this tally: the page does not make one up.
    say(left, 'Нужное время и число подтверждений набраны.', 'info');
  }
}

function meter(id, value, total) {
  const pct = total > 0 ? Math.min(100, (value / total) * 100) : 100;
  $(id).firstElementChild.style.width = `${pct}%`;
  $(id).classList.toggle('done', value >= total);
}

// ---- halls and video ----

function defaultHall() {
  const wanted = new URLSearchParams(location.search).get('hall');
  if (halls().some((h) => h.id === wanted)) return wanted;
  const now = Date.now();
  const mine = allSessions().filter((s) => s.accredited && s.ends > now).sort((a, b) => a.starts - b.starts);
  return (mine.find((s) => s.starts <= now) || mine[0])?.hall || halls()[0].id;
}

function renderHallTabs() {
  const now = serverNow();
  const clock = clockIn(state.tz);
  $('hall-tabs').replaceChildren(...halls().map((h) => {
    const { current, prev, next } = hallPhase(hallSessions(h.id), now);
    const sub = current ? `сейчас: ${current.title}${current.accredited ? ' · баллы для вас' : ''}`
      : next ? `далее в ${clock(next.starts)}: ${next.title}`
        : prev ? 'сессии завершены' : 'трансляция не идёт';
    return el('button', { type: 'button', 'aria-pressed': String(h.id === state.hall), onclick: () => chooseHall(h.id) },
      el('span', { text: h.title }), el('span', { class: 'sub', text: sub }));
  }));
}

function chooseHall(id) {
  if (id === state.hall && state.ws) return;
  prompts.unlockAudio();
  state.hall = id;
  state.tally = null;
  state.session = null;
  const url = new URL(location.href);
  url.searchParams.set('hall', id);
  history.replaceState(null, '', url);
  prompts.drop(); // a prompt belongs to the hall it was shown in
  say($('video-switched'), '');
  renderHallTabs();
  renderTally();
  state.video?.stop();
  state.video = loadVideo($('video'), halls().find((h) => h.id === id), { counting: countingNow, note: $('video-note') });
  state.stopped = false;
  reconnectNow();
}

// ---- page ----

function setupNotifyButton() {
  const btn = $('notify-btn');
  if (!('Notification' in window) || Notification.permission !== 'default') return;
  btn.hidden = false;
  btn.addEventListener('click', async () => {
    prompts.unlockAudio();
    const result = await Notification.requestPermission();
    btn.hidden = true;
    if (result !== 'granted') {
      say($('load-status'), 'Уведомления не разрешены. Окно подтверждения всё равно появится на странице со звуком.', 'warn');
    }
  });
}

function showInvalid(reason) {
  $('player').hidden = true;
  $('paused').hidden = true;
  prompts.drop();
  const msg = $('load-status');
  msg.dataset.kind = 'error';
  msg.hidden = false;
  msg.replaceChildren(
    el('strong', { text: 'Ссылка недействительна. ' }),
    reason ? `${reason}. ` : '',
    'Проверьте, что ссылка скопирована полностью. Если организатор прислал вам новую ссылку, откройте её. ',
    'Если вы ещё не регистрировались, ', el('a', { href: '/#register', text: 'зарегистрируйтесь' }), '.');
  setStatus('stopped', 'Ссылка недействительна');
}

async function start() {
  if (!token) {
    showInvalid('В адресе нет личного идентификатора');
    return;
  }
  try {
    state.me = await api(`/api/me?token=${encodeURIComponent(token)}`);
  } catch (e) {
    if (e.status === 401) { showInvalid(e.message); return; }
    say($('load-status'), `${e.message} Обновите страницу через минуту.`, 'error');
    setStatus('offline', 'Нет связи с сервером');
    return;
  }
  const { me } = state;
  const forum = me.programme.forum;
  state.tz = forum.timezone;
  $('forum-title').textContent = forum.title;
  document.title = `Трансляция — ${forum.title}`;
  $('greeting').textContent = `Здравствуйте, ${me.name}!`;
  if ((me.codes || []).length) {
    $('certificate-link').href = `/api/me/certificate.pdf?token=${encodeURIComponent(token)}`;
    $('certificate').hidden = false;
  }
  $('greeting').after(el('p', { class: 'muted', text: `Специальность: ${me.specialty}, ${EDUCATION[me.education] || me.education} образование.` }));
  $('results-link').href = `/my?token=${encodeURIComponent(token)}`;
  say($('load-status'), '');
  $('player').hidden = false;
  $('prog-tz').textContent = `Время по часовому поясу форума: ${zoneLabel(state.tz)}.`;
  const today = todayIn(state.tz);
  const dates = me.programme.days.map((d) => d.date);
  renderProgramme($('programme'), me.programme, {
    showAccredited: true,
    open: dates.includes(today) ? today : dates.find((d) => d > today) || dates[0],
  });
  setupNotifyButton();
  state.after = createAfter({
    token,
    tz: state.tz,
    codesNote: forum.codes_note,
    codes: me.codes || [],
    serverNow,
    tallyFor: (id) => state.tallies.get(id),
  });
  state.hall = defaultHall();
  chooseHall(state.hall);
  setInterval(() => {
    renderTally();
    refreshStatus();
    if (state.paused) renderPaused(); // a held prompt that closed is no longer mentioned
  }, 1000);
  setInterval(renderHallTabs, 60_000);
}

$('watch-here').addEventListener('click', () => {
  prompts.unlockAudio();
  $('paused').hidden = true;
  reconnectNow(); // the newest connection becomes the viewer's active one
});
document.addEventListener('pointerdown', () => prompts.unlockAudio(), { once: true });
document.addEventListener('keydown', () => prompts.unlockAudio(), { once: true });
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    prompts.stopAttention();
    // A backoff timer may have been held back while hidden; do not make the person wait.
    if (state.reconnectTimer) connect();
  }
});
window.addEventListener('online', () => { if (state.reconnectTimer) connect(); });

start();
