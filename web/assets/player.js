// The personal-link page: greeting, hall chooser, video, the hub connection with its status
// line, the running tally and the «Подтвердить участие» prompts.
//
// Presence is kept by the websocket itself. The server sends protocol-level pings and the
// browser answers them without running page JavaScript, so a hidden tab, whose timers Chrome
// throttles to about once a minute, still counts as present. This page therefore has no JS
// heartbeat; its timers only redraw numbers and countdowns, and do not matter when late.

import { api, el, say, clockIn, zoneLabel, todayIn, plural, EDUCATION, promptStatus } from './common.js';
import { renderProgramme } from './programme.js';

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
  serverOffset: 0, // server clock minus this device's clock, from `welcome` and `pong`
  tally: null,
  session: null, // SessionInfo of this hall from `welcome`
  prompt: null,
  hls: null,
};

const serverNow = () => Date.now() + state.serverOffset;
const halls = () => state.me.programme.halls;
const hallTitle = (id) => halls().find((h) => h.id === id)?.title || id;
const allSessions = () => state.me.programme.days.flatMap((d) => d.sessions);

// ---- status line ----

function setStatus(kind, text) {
  $('status').dataset.state = kind;
  $('status-text').textContent = text;
}

function refreshStatus() {
  if (state.stopped) return;
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || !state.welcomed) {
    setStatus('offline', 'Нет связи — переподключаемся…');
  } else if (state.paused) {
    setStatus('idle', 'На связи, но время сейчас не засчитывается: открыт другой зал или вкладка.');
  } else if (state.tally?.counting) {
    setStatus('counting', 'На связи — время засчитывается.');
  } else {
    const now = serverNow();
    const live = allSessions().some((s) => s.hall === state.hall && s.starts <= now && now < s.ends);
    setStatus('idle', live
      ? 'На связи, но время сейчас не засчитывается (перерыв или пропущенное подтверждение).'
      : 'На связи, но время сейчас не засчитывается: в этом зале сейчас нет сессии.');
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
      state.paused = false;
      $('paused').hidden = true;
      if (msg.prompt) showPrompt(msg.prompt);
      renderTally();
      break;
    case 'tally':
      state.tally = { ...msg, received: serverNow() };
      if (typeof msg.as_of === 'number') state.serverOffset = msg.as_of - Date.now();
      renderTally();
      break;
    case 'prompt':
      showPrompt(msg);
      break;
    case 'confirmed':
      onConfirmed(msg.prompt);
      break;
    case 'error':
      onError(msg);
      break;
    case 'paused':
      showPaused(msg.active_hall);
      break;
    case 'resumed':
      state.paused = false;
      $('paused').hidden = true;
      break;
    default:
      break;
  }
  refreshStatus();
}

// ---- paused: another tab or hall is the active one ----

function showPaused(activeHall) {
  state.paused = true;
  $('paused-text').textContent = 'Время засчитывается там, где вы смотрите сейчас (в другой вкладке или на другом устройстве). Чтобы смотреть в этой вкладке, нажмите кнопку — та остановится.';
  $('paused-h').textContent = `Просмотр идёт в другой вкладке (${hallTitle(activeHall)})`;
  $('paused').hidden = false;
  document.querySelector('#video video')?.pause(); // two playing tabs would talk over each other
  $('watch-here').focus();
}

// ---- tally ----

function sessionById(id) {
  return allSessions().find((s) => s.id === id);
}

function renderTally() {
  const t = state.tally;
  const info = t ? sessionById(t.session) : state.session && sessionById(state.session.id);
  if (!info) {
    $('tally-session').textContent = 'В этом зале сейчас нет сессии с баллами НМО.';
    $('tally-body').hidden = true;
    return;
  }
  $('tally-session').textContent = `${info.time} · ${info.title}${info.accredited ? '' : ' (не аккредитована для вашей специальности)'}`;
  if (!t) {
    $('tally-body').hidden = true;
    return;
  }
  $('tally-body').hidden = false;
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
  if (!needMinutes && !needConfirms) {
    say(left, 'Условия сессии выполнены. Можно продолжать смотреть.', 'ok');
  } else {
    const parts = [];
    if (needMinutes) parts.push(`${needMinutes} мин просмотра`);
    if (needConfirms) parts.push(`${needConfirms} ${plural(needConfirms, 'подтверждение', 'подтверждения', 'подтверждений')}`);
    say(left, `Ещё нужно: ${parts.join(' и ')}.`, 'info');
  }
}

function meter(id, value, total) {
  const pct = total > 0 ? Math.min(100, (value / total) * 100) : 100;
  $(id).firstElementChild.style.width = `${pct}%`;
  $(id).classList.toggle('done', value >= total);
}

// ---- the prompt ----

// The variant moves the dialog and changes its words and button layout, so a script that
// clicks one fixed place or one fixed label does not work.
const POSITIONS = ['c', 'tr', 'bl', 'tl', 'br'];
const TITLES = ['Подтвердите участие', 'Вы смотрите трансляцию?', 'Отметка присутствия', 'Проверка присутствия', 'Подтвердить участие'];
const ASKS = [
  (n) => ['Нажмите кнопку с числом ', n],
  (n) => ['Выберите число ', n],
  (n) => ['Чтобы подтвердить участие, нажмите ', n],
  (n) => ['Найдите и нажмите ', n],
  (n) => ['Отметьтесь: нажмите на число ', n],
];

const dialog = $('prompt');
let countdownTimer = null;
let titleTimer = null;
let notification = null;
const pageTitle = document.title;

function showPrompt(p) {
  const id = p.prompt ?? p.id;
  const ask = p.challenge?.ask ?? p.ask;
  const choices = p.challenge?.choices ?? p.choices ?? [];
  if (state.prompt?.id === id || p.closes <= serverNow()) return;
  state.prompt = { id, closes: p.closes, done: false };
  const v = Math.abs(p.variant ?? 0) % POSITIONS.length;
  dialog.dataset.pos = POSITIONS[v];
  $('prompt-h').textContent = TITLES[v];
  const [before, number] = ASKS[v](ask);
  $('prompt-ask').replaceChildren(before, el('strong', { text: number }));
  const answers = $('prompt-answers');
  answers.className = v % 2 ? 'answers column' : 'answers';
  answers.replaceChildren(...choices.map((c) =>
    el('button', { type: 'button', class: 'secondary', text: c, 'aria-label': `Число ${c}`, onclick: () => answer(c) })));
  say($('prompt-msg'), '');
  if (!dialog.open) dialog.showModal();
  // Focus goes to the heading, not to a button, so a stray Enter or Space answers nothing.
  $('prompt-h').focus();
  tickCountdown();
  clearInterval(countdownTimer);
  countdownTimer = setInterval(tickCountdown, 500);
  if (document.hidden) callForAttention();
}

function tickCountdown() {
  if (!state.prompt) return;
  const left = Math.max(0, state.prompt.closes - serverNow());
  const s = Math.floor(left / 1000);
  $('prompt-left').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  if (left === 0 && !state.prompt.done) {
    state.prompt.done = true;
    setAnswersDisabled(true);
    say($('prompt-msg'), 'Время на ответ истекло.', 'warn');
    closePromptSoon(4000);
  }
}

function answer(choice) {
  if (!state.prompt || state.prompt.done) return;
  if (!send({ type: 'confirm', prompt: state.prompt.id, answer: choice })) {
    say($('prompt-msg'), 'Нет связи с сервером. Подождите, пока связь восстановится, и нажмите ещё раз.', 'error');
    return;
  }
  setAnswersDisabled(true);
  say($('prompt-msg'), 'Отправляем…', 'info');
}

function setAnswersDisabled(disabled) {
  for (const b of $('prompt-answers').children) b.disabled = disabled;
}

function onConfirmed(id) {
  if (!state.prompt || state.prompt.id !== id) return;
  state.prompt.done = true;
  say($('prompt-msg'), 'Участие подтверждено. Спасибо!', 'ok');
  closePromptSoon(2000);
}

// Codes after which answering again cannot help; for the rest (a wrong answer, a store
// hiccup) the buttons come back so the person can retry.
const FINAL_ERRORS = new Set(['prompt_closed', 'unknown_prompt', 'already_confirmed', 'wrong_hall']);

function onError(msg) {
  const text = msg.message || 'Ошибка. Попробуйте ещё раз.';
  if (!state.prompt || state.prompt.done) {
    say($('load-status'), text, 'error');
    return;
  }
  if (FINAL_ERRORS.has(msg.code)) {
    state.prompt.done = true;
    say($('prompt-msg'), text, msg.code === 'already_confirmed' ? 'ok' : 'warn');
    closePromptSoon(3000);
  } else {
    say($('prompt-msg'), text, 'error');
    setAnswersDisabled(false);
  }
}

function closePromptSoon(ms) {
  clearInterval(countdownTimer);
  stopAttention();
  const id = state.prompt?.id;
  setTimeout(() => {
    if (state.prompt?.id !== id) return;
    state.prompt = null;
    if (dialog.open) dialog.close();
  }, ms);
}

function dropPrompt() {
  clearInterval(countdownTimer);
  stopAttention();
  state.prompt = null;
  if (dialog.open) dialog.close();
}

// Escape would hide the prompt and the person would miss it; it closes by itself when answered
// or expired.
dialog.addEventListener('cancel', (e) => e.preventDefault());

// ---- attention in a hidden tab: sound, blinking title, system notification ----

let audio = null;

/** Browsers allow sound only after a user gesture, so the audio context is made on the first one. */
function unlockAudio() {
  if (audio) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (Ctx) audio = new Ctx();
}

function beep() {
  if (!audio) return;
  audio.resume();
  const t = audio.currentTime;
  for (const [start, freq] of [[0, 880], [0.25, 660], [0.5, 880]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + start);
    gain.gain.exponentialRampToValueAtTime(0.3, t + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + start + 0.2);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + start);
    osc.stop(t + start + 0.22);
  }
}

function callForAttention() {
  beep();
  clearInterval(titleTimer);
  let on = false;
  titleTimer = setInterval(() => {
    on = !on;
    document.title = on ? '❗ Подтвердите участие' : pageTitle;
  }, 1000);
  if ('Notification' in window && Notification.permission === 'granted') {
    notification = new Notification('Подтвердите участие', {
      body: `Вернитесь во вкладку трансляции и нажмите кнопку. Окно закроется в ${clockIn(state.tz)(state.prompt.closes)}.`,
      tag: `yavka-${state.prompt.id}`,
      requireInteraction: true,
    });
    notification.onclick = () => { window.focus(); notification?.close(); };
  }
}

function stopAttention() {
  clearInterval(titleTimer);
  titleTimer = null;
  document.title = pageTitle;
  notification?.close();
  notification = null;
}

function setupNotifyButton() {
  const btn = $('notify-btn');
  if (!('Notification' in window) || Notification.permission !== 'default') return;
  btn.hidden = false;
  btn.addEventListener('click', async () => {
    unlockAudio();
    const result = await Notification.requestPermission();
    btn.hidden = true;
    if (result !== 'granted') {
      say($('load-status'), 'Уведомления не разрешены. Окно подтверждения всё равно появится на странице со звуком.', 'warn');
    }
  });
}

// ---- halls and video ----

function currentSession(hall, now) {
  return allSessions().find((s) => s.hall === hall && s.starts <= now && now < s.ends);
}

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
    const s = currentSession(h.id, now);
    const next = allSessions().filter((x) => x.hall === h.id && x.starts > now).sort((a, b) => a.starts - b.starts)[0];
    const sub = s ? `сейчас: ${s.title}${s.accredited ? ' · баллы для вас' : ''}`
      : next ? `далее в ${clock(next.starts)}: ${next.title}` : 'трансляция не идёт';
    return el('button', { type: 'button', 'aria-pressed': String(h.id === state.hall), onclick: () => chooseHall(h.id) },
      el('span', { text: h.title }), el('span', { class: 'sub', text: sub }));
  }));
}

function chooseHall(id) {
  if (id === state.hall && state.ws) return;
  unlockAudio();
  state.hall = id;
  state.tally = null;
  state.session = null;
  const url = new URL(location.href);
  url.searchParams.set('hall', id);
  history.replaceState(null, '', url);
  dropPrompt(); // a prompt belongs to the hall it was shown in
  renderHallTabs();
  renderTally();
  loadVideo();
  state.stopped = false;
  reconnectNow();
}

function loadVideo() {
  state.hls?.destroy();
  state.hls = null;
  const box = $('video');
  const hall = halls().find((h) => h.id === state.hall);
  const url = hall?.stream_url || '';
  if (!url) {
    box.replaceChildren(el('div', { class: 'video-msg', text: 'Адрес трансляции этого зала ещё не указан.' }));
    return;
  }
  if (new URL(url, location.href).pathname.endsWith('.m3u8')) {
    // Muted autoplay is allowed everywhere; the person turns the sound on with the controls.
    const video = el('video', { controls: true, playsinline: true, muted: true, autoplay: true, title: `Трансляция: ${hall.title}` });
    video.muted = true;
    box.replaceChildren(video);
    if (window.Hls?.isSupported()) {
      const hls = new window.Hls({ liveDurationInfinity: true });
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
        else setTimeout(() => hls.startLoad(), 5000); // network: the stream may not have started yet
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      state.hls = hls;
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = url; // Safari on iPhone plays HLS itself
    } else {
      box.replaceChildren(el('div', { class: 'video-msg', text: 'Этот браузер не умеет показывать трансляцию. Откройте ссылку в Chrome, Firefox, Safari или Яндекс Браузере.' }));
      return;
    }
    $('video-note').textContent = 'Звук выключен при запуске — включите его кнопкой динамика в плеере.';
  } else {
    box.replaceChildren(el('iframe', { src: url, title: `Трансляция: ${hall.title}`, allow: 'autoplay; fullscreen; picture-in-picture; encrypted-media', allowfullscreen: true, referrerpolicy: 'no-referrer' }));
    $('video-note').textContent = '';
  }
}

// ---- page ----

function showInvalid(reason) {
  $('player').hidden = true;
  $('paused').hidden = true;
  dropPrompt();
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
  state.hall = defaultHall();
  chooseHall(state.hall);
  setInterval(() => { tickTally(); refreshStatus(); }, 1000);
  setInterval(renderHallTabs, 60_000);
}

$('watch-here').addEventListener('click', () => {
  unlockAudio();
  $('paused').hidden = true;
  reconnectNow(); // the newest connection becomes the viewer's active one
});
document.addEventListener('pointerdown', unlockAudio, { once: true });
document.addEventListener('keydown', unlockAudio, { once: true });
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    stopAttention();
    // A backoff timer may have been held back while hidden; do not make the person wait.
    if (state.reconnectTimer) connect();
  }
});
window.addEventListener('online', () => { if (state.reconnectTimer) connect(); });

start();
