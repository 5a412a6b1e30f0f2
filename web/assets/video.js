// The hall's video in the player: an HLS stream through hls.js (Safari plays HLS itself), or
// the organiser's iframe page for other addresses.
//
// A stream that does not play must not leave an endless spinner. When hls.js gives up (a fatal
// error) or nothing plays within the stall time, the video is covered by a plain message,
// loading starts again with a growing pause, and the viewer is told that their time still
// counts while the page is open (when the tally says so). The stall time is 20 s; a test can
// shorten it with `?stall=MS` in the page address.

import { el } from './common.js';

const STALL_MS = (() => {
  const asked = Number(new URLSearchParams(location.search).get('stall'));
  return Number.isFinite(asked) && asked >= 500 ? Math.min(asked, 120_000) : 20_000;
})();
// Pauses between attempts: 5 s, 10 s, 20 s, 40 s, then every 60 s, each ±20 % so that
// thousands of viewers of a broken stream do not all come back in the same second.
const retryDelay = (attempt) => Math.min(60_000, 5_000 * 2 ** attempt) * (0.8 + Math.random() * 0.4);

/**
 * Shows `hall`'s stream in `box`; `note` gets a line under the video. `counting()` says whether
 * the tally counts time now. Returns a handle with `stop()` (before another hall is loaded),
 * `pause()` (a paused tab must not play over the active one) and `resume()`.
 */
export function loadVideo(box, hall, { counting, note }) {
  const url = hall?.stream_url || '';
  if (!url) {
    box.replaceChildren(el('div', { class: 'video-msg', text: 'Адрес трансляции этого зала ещё не указан.' }));
    note.textContent = '';
    return { stop() {}, pause() {}, resume() {} };
  }
  if (!new URL(url, location.href).pathname.endsWith('.m3u8')) {
    box.replaceChildren(el('iframe', { src: url, title: `Трансляция: ${hall.title}`, allow: 'autoplay; fullscreen; picture-in-picture; encrypted-media', allowfullscreen: true, referrerpolicy: 'no-referrer' }));
    note.textContent = '';
    return { stop() {}, pause() {}, resume() {} };
  }
  // Muted autoplay is allowed everywhere; the person turns the sound on with the controls.
  const video = el('video', { controls: true, playsinline: true, muted: true, autoplay: true, title: `Трансляция: ${hall.title}` });
  video.muted = true;
  const native = !window.Hls?.isSupported() && video.canPlayType('application/vnd.apple.mpegurl');
  if (!window.Hls?.isSupported() && !native) {
    box.replaceChildren(el('div', { class: 'video-msg', text: 'Этот браузер не умеет показывать трансляцию. Откройте ссылку в Chrome, Firefox, Safari или Яндекс Браузере.' }));
    note.textContent = '';
    return { stop() {}, pause() {}, resume() {} };
  }
  note.textContent = 'Звук выключен при запуске — включите его кнопкой динамика в плеере.';

  const counts = el('p', { class: 'small', id: 'video-counts', text: 'Время при этом засчитывается, пока эта страница открыта.' });
  const when = el('p', { class: 'small', id: 'video-retry' });
  const now = el('button', { type: 'button', class: 'secondary small', text: 'Повторить сейчас', onclick: () => retry() });
  const trouble = el('div', { class: 'video-msg video-trouble', id: 'video-trouble', role: 'status', hidden: true },
    el('div', {}, el('p', { class: 'video-trouble-h', text: 'Трансляция не загружается. Пробуем снова…' }), counts, when, now));
  box.replaceChildren(video, trouble);

  let hls = null;
  let attempt = 0;
  let stallTimer = null;
  let retryTimer = null;
  let retryAt = 0;
  let ticker = null;
  let stopped = false;
  let held = false; // paused on purpose: another tab is the viewer's active one

  function start() {
    if (stopped) return;
    if (native) {
      video.src = url;
      video.load();
    } else {
      hls?.destroy();
      hls = new window.Hls({ liveDurationInfinity: true });
      hls.on(window.Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR && attempt === 0) {
          hls.recoverMediaError(); // once; a second media error is a broken stream
          attempt += 1;
          return;
        }
        failed();
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    }
    if (!held) {
      video.play().catch(() => {}); // autoplay may be refused; the watchdog then tells
      watch();
    }
  }

  /** Nothing playing within the stall time counts as a failure. */
  function watch() {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(failed, STALL_MS);
  }

  function failed() {
    if (stopped || retryTimer) return;
    clearTimeout(stallTimer);
    const wait = retryDelay(attempt);
    attempt += 1;
    retryAt = Date.now() + wait;
    retryTimer = setTimeout(retry, wait);
    trouble.hidden = false;
    render();
    clearInterval(ticker);
    ticker = setInterval(render, 1000);
  }

  function retry() {
    clearTimeout(retryTimer);
    retryTimer = null;
    start();
  }

  function render() {
    counts.hidden = !counting();
    const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    when.textContent = retryTimer ? `Следующая попытка через ${s} с.` : 'Загружаем…';
  }

  function recovered() {
    attempt = 0;
    clearTimeout(stallTimer);
    clearInterval(ticker);
    trouble.hidden = true;
  }

  video.addEventListener('playing', recovered);
  // Buffering in the middle of a stream gets the same stall time to recover.
  video.addEventListener('waiting', () => { if (!retryTimer) watch(); });
  video.addEventListener('error', () => { if (native) failed(); });
  // A video paused by the viewer (or by a paused tab) is not stalled.
  video.addEventListener('pause', () => { if (!video.seeking && trouble.hidden) clearTimeout(stallTimer); });
  start();

  return {
    stop() {
      stopped = true;
      clearTimeout(stallTimer);
      clearTimeout(retryTimer);
      clearInterval(ticker);
      hls?.destroy();
    },
    pause() {
      held = true;
      video.pause();
    },
    resume() {
      if (!held) return;
      held = false;
      video.play().catch(() => {});
    },
  };
}
