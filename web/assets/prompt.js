// The «Подтвердить участие» dialog of the player, and the attention it calls for in a hidden
// tab (sound, blinking title, system notification).
//
// A prompt is either shown (the modal is open) or held: a paused tab (another tab or hall is
// the viewer's active one) must not open the modal, because the modal would cover the paused
// overlay's «Смотреть здесь» and the server refuses a paused tab's answer anyway. A held prompt
// is shown as soon as the tab is active again, if it is still open; the paused overlay says
// meanwhile that a confirmation is going on in this hall.

import { el, say, clockIn } from './common.js';

const $ = (id) => document.getElementById(id);

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

// Codes after which answering again cannot help; for the rest (a wrong answer, a store
// hiccup) the buttons come back so the person can retry.
const FINAL_ERRORS = new Set(['prompt_closed', 'unknown_prompt', 'already_confirmed', 'wrong_hall']);

/**
 * The prompt state machine. `send(msg)` sends over the hub connection (false when offline),
 * `serverNow()` is the server's clock, `tz()` the forum's zone, `onChange()` is called when the
 * held prompt appears or goes (the paused overlay mentions it).
 */
export function createPrompts({ send, serverNow, tz, onChange }) {
  const dialog = $('prompt');
  // {id, closes, msg, shown, done}: the prompt of this tab, shown or held.
  let current = null;
  let countdownTimer = null;
  let titleTimer = null;
  let notification = null;
  let audio = null;
  let pageTitle = null; // the title to restore once the blinking stops

  const open = () => current && !current.done && current.closes > serverNow();

  /** A `prompt` message (or `welcome.prompt`). Held while `paused`, shown otherwise. */
  function offer(p, { paused }) {
    const id = p.prompt ?? p.id;
    if (p.closes <= serverNow()) return;
    if (current?.id === id) {
      if (!current.shown && !paused) show();
      return;
    }
    if (current?.shown) hide();
    current = { id, closes: p.closes, msg: p, shown: false, done: false, rendered: false };
    if (paused) onChange();
    else show();
  }

  function show() {
    const p = current.msg;
    const ask = p.challenge?.ask ?? p.ask;
    const choices = p.challenge?.choices ?? p.choices ?? [];
    current.shown = true;
    const v = Math.abs(p.variant ?? 0) % POSITIONS.length;
    dialog.dataset.pos = POSITIONS[v];
    $('prompt-h').textContent = TITLES[v];
    const [before, number] = ASKS[v](ask);
    $('prompt-ask').replaceChildren(before, el('strong', { text: number }));
    const answers = $('prompt-answers');
    answers.className = v % 2 ? 'answers column' : 'answers';
    answers.replaceChildren(...choices.map((c) =>
      el('button', { type: 'button', class: 'secondary', text: c, 'aria-label': `Число ${c}`, onclick: (ev) => answer(c, ev) })));
    say($('prompt-msg'), '');
    if (!dialog.open) dialog.showModal();
    // Drawn once the browser has painted a frame with the dialog open (the server keeps this
    // as a hint beside the answer: a script that skips the page cannot have it).
    const shownId = current.id;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      if (current?.id === shownId && current.shown && dialog.open) current.rendered = true;
    }));
    // Focus goes to the heading, not to a button, so a stray Enter or Space answers nothing.
    $('prompt-h').focus();
    tickCountdown();
    clearInterval(countdownTimer);
    countdownTimer = setInterval(tickCountdown, 500);
    if (document.hidden) callForAttention();
    onChange();
  }

  /** Closes the modal at once; the prompt stays held if it is still open. */
  function hide() {
    clearInterval(countdownTimer);
    stopAttention();
    if (current) current.shown = false;
    if (dialog.open) dialog.close();
  }

  function tickCountdown() {
    if (!current?.shown) return;
    const left = Math.max(0, current.closes - serverNow());
    const s = Math.floor(left / 1000);
    $('prompt-left').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    if (left === 0 && !current.done) {
      current.done = true;
      setAnswersDisabled(true);
      say($('prompt-msg'), 'Время на ответ истекло.', 'warn');
      closeSoon(4000);
    }
  }

  /** What this page saw of the answer: hints for the organiser, never a reason to refuse. */
  function hintsOf(ev) {
    const trusted = Boolean(ev?.isTrusted);
    let input = 'none';
    if (trusted) {
      // A click made with Enter or Space has no pointer position (detail 0).
      if (ev.detail === 0) input = 'keyboard';
      else if (ev.pointerType === 'touch' || ev.pointerType === 'pen') input = 'touch';
      else input = 'pointer';
    }
    return {
      trusted,
      input,
      visible: document.visibilityState === 'visible',
      focused: document.hasFocus(),
      rendered: Boolean(current?.rendered),
    };
  }

  function answer(choice, ev) {
    if (!current?.shown || current.done) return;
    if (!send({ type: 'confirm', prompt: current.id, answer: choice, hints: hintsOf(ev) })) {
      say($('prompt-msg'), 'Нет связи с сервером. Подождите, пока связь восстановится, и нажмите ещё раз.', 'error');
      return;
    }
    setAnswersDisabled(true);
    say($('prompt-msg'), 'Отправляем…', 'info');
  }

  function setAnswersDisabled(disabled) {
    for (const b of $('prompt-answers').children) b.disabled = disabled;
  }

  /** The prompt goes after `ms`, unless another one has taken its place meanwhile. */
  function closeSoon(ms) {
    clearInterval(countdownTimer);
    stopAttention();
    const id = current?.id;
    setTimeout(() => {
      if (current?.id !== id) return;
      drop();
    }, ms);
  }

  /** Forgets the prompt (hall switch, invalid link). */
  function drop() {
    hide();
    current = null;
    onChange();
  }

  /** `confirmed`: by this tab (thanks, then close) or by another one (just go). */
  function confirmed(id) {
    if (current?.id !== id) return;
    if (!current.shown) { drop(); return; }
    current.done = true;
    say($('prompt-msg'), 'Участие подтверждено. Спасибо!', 'ok');
    closeSoon(2000);
  }

  /** An `error` about the answer just sent; false when no prompt was waiting for one. */
  function error(msg, text) {
    if (!current?.shown || current.done) return false;
    if (FINAL_ERRORS.has(msg.code)) {
      current.done = true;
      say($('prompt-msg'), text, msg.code === 'already_confirmed' ? 'ok' : 'warn');
      closeSoon(3000);
    } else {
      say($('prompt-msg'), text, 'error');
      setAnswersDisabled(false);
    }
    return true;
  }

  /** The tab was paused: the modal closes, the prompt is held. */
  function pause() {
    if (current?.shown && !current.done) hide();
    onChange();
  }

  /** The tab is active again: a held prompt still open is shown. */
  function resume() {
    if (current && !current.shown && open()) show();
  }

  /**
   * A new connection's welcome: whatever was held is forgotten, because the server sends
   * again every open prompt this viewer has not confirmed; a prompt on screen stays.
   */
  function welcomed() {
    if (current && !current.shown) current = null;
  }

  /** The held prompt, if it is still open: {id, closes}. */
  function held() {
    return current && !current.shown && open() ? { id: current.id, closes: current.closes } : null;
  }

  // Escape would hide the prompt and the person would miss it; it closes by itself when
  // answered or expired.
  dialog.addEventListener('cancel', (e) => e.preventDefault());

  // ---- attention in a hidden tab ----

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
    if (titleTimer === null) pageTitle = document.title;
    clearInterval(titleTimer);
    let on = false;
    titleTimer = setInterval(() => {
      on = !on;
      document.title = on ? '❗ Подтвердите участие' : pageTitle;
    }, 1000);
    if ('Notification' in window && Notification.permission === 'granted') {
      notification = new Notification('Подтвердите участие', {
        body: `Вернитесь во вкладку трансляции и нажмите кнопку. Окно закроется в ${clockIn(tz())(current.closes)}.`,
        tag: `yavka-${current.id}`,
        requireInteraction: true,
      });
      notification.onclick = () => { window.focus(); notification?.close(); };
    }
  }

  function stopAttention() {
    clearInterval(titleTimer);
    titleTimer = null;
    if (pageTitle !== null) document.title = pageTitle;
    pageTitle = null;
    notification?.close();
    notification = null;
  }

  return { offer, confirmed, error, pause, resume, welcomed, held, drop, unlockAudio, stopAttention };
}
