// One viewer's evidence drawn as an SVG timeline: a row of connections per hall with that
// hall's prompts, the active-hall band, and the time each session counted. Every shape has a
// <title>, so hovering (or a screen reader) gives the exact times. Each prompt is drawn by the
// status the rules gave it and titled with their words; nothing is decided here.

import { clockIn, dateTimeIn } from './common.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 1000;
const LABEL = 170;
const ROW = 34;
/** Height of one line of session labels above the rows. */
const LABEL_LINE = 15;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}
const tip = (text) => svg('title', {}, text);

/** Milliseconds the zone is ahead of UTC at instant `t`. */
function zoneOffset(t, tz) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(t));
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
}

/** Smallest gap between two time labels on the axis, in viewBox units ("10:05" is ~35). */
const TICK_GAP = 60;

/**
 * Round-time ticks aligned in the forum's zone, as dense as the axis allows without their
 * labels touching: the smallest step from 1 minute to a day that leaves TICK_GAP between.
 */
function ticks(t0, t1, tz, width) {
  const perMs = width / Math.max(1, t1 - t0);
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60e3);
  const step = steps.find((s) => s * perMs >= TICK_GAP) || steps[steps.length - 1];
  const offset = zoneOffset(t0, tz); // so ticks land on local round times
  const out = [];
  for (let t = Math.ceil((t0 + offset) / step) * step - offset; t <= t1; t += step) out.push(t);
  return out;
}

/** Colour of a prompt's mark by its status (the rules' `status`). */
const STATUS_FILL = {
  confirmed: '#1b8a4a', not_confirmed: '#c62828', open: '#b7791f', not_shown: '#8a94a6', outside_session: '#8a94a6',
};

export function timeline(ev, { tz, hallTitle, sessions, colours, halls }) {
  const at = dateTimeIn(tz);
  const clock = clockIn(tz);
  const now = Date.now();
  const conns = ev.connections || [];
  const prompts = ev.prompts || [];
  const times = [
    ...conns.flatMap((c) => [c.start, c.end ?? now]),
    ...prompts.flatMap((p) => [p.ts, p.closes]),
  ];
  if (!times.length) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'Участник ещё не подключался.';
    return p;
  }
  const pad = 5 * 60e3;
  const t0 = Math.min(...times) - pad;
  const t1 = Math.max(...times) + pad;
  const x = (t) => LABEL + ((t - t0) / (t1 - t0)) * (W - LABEL - 10);
  const colour = (hall) => colours[Math.max(0, halls.indexOf(hall)) % colours.length];

  const hallRows = [...new Set([...conns.map((c) => c.hall), ...prompts.map((p) => p.hall)])];
  const sessionOf = (id) => sessions.find((x) => x.id === id);
  const rows = [...hallRows.map((h) => ({ kind: 'hall', hall: h, label: `${hallTitle(h)}: подключения` })),
    { kind: 'active', label: 'Активный зал' },
    ...(ev.sessions || []).map((s) => {
      const info = sessionOf(s.session);
      // Two halls often share a session's hours: the hall tells the rows apart.
      return { kind: 'counted', s, label: info ? `Засчитано, ${hallTitle(info.hall)}` : `Засчитано: ${s.session}`, full: info ? `Засчитано: ${hallTitle(info.hall)}, ${info.time} ${info.title}` : s.session };
    })];

  // Session windows as light bands behind everything, each labelled above the rows. Labels
  // that would overlap (sessions of two halls at the same hours) go on lines of their own.
  const charWidth = 6.8; // 12 px text, generous, so estimated labels never touch
  const lanes = [];
  const bands = (ev.sessions || []).map((r) => sessionOf(r.session))
    .filter((s) => s && s.ends >= t0 && s.starts <= t1)
    .map((s) => {
      const a = x(Math.max(s.starts, t0));
      const b = x(Math.min(s.ends, t1));
      const room = Math.max(60, W - 10 - a);
      let text = `${s.time} · ${hallTitle(s.hall)} · ${s.title}`;
      if (text.length * charWidth > room) text = `${text.slice(0, Math.floor(room / charWidth) - 1)}…`;
      let lane = lanes.findIndex((end) => end + 12 <= a);
      if (lane < 0) lane = lanes.push(0) - 1;
      lanes[lane] = a + text.length * charWidth;
      return { s, a, b, text, lane };
    });
  const TOP = 20 + Math.max(1, lanes.length) * LABEL_LINE;
  const H = TOP + rows.length * ROW + 24;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Временная шкала участия' });
  for (const { s, a, b, text, lane } of bands) {
    root.append(svg('rect', { x: a, y: TOP - 6, width: Math.max(1, b - a), height: rows.length * ROW + 6, fill: '#eef3fb' },
      tip(`${s.title}: ${s.time}, ${hallTitle(s.hall)}`)));
    root.append(svg('text', { x: a + 4, y: 14 + lane * LABEL_LINE, 'font-size': 12, fill: '#4f5b6d', class: 'session-label' }, text,
      tip(`${s.time} · ${hallTitle(s.hall)} · ${s.title}`)));
  }

  for (const t of ticks(t0, t1, tz, W - LABEL - 10)) {
    root.append(svg('line', { x1: x(t), x2: x(t), y1: TOP - 6, y2: H - 20, stroke: '#d5dae2' }));
    root.append(svg('text', { x: x(t), y: H - 6, 'font-size': 12, 'text-anchor': 'middle', fill: '#4f5b6d', class: 'tick-label' }, clock(t)));
  }

  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    root.append(svg('text', { x: 6, y: y + ROW / 2 + 4, 'font-size': 13, fill: '#1b2230' }, row.label.slice(0, 26), tip(row.full || row.label)));
    root.append(svg('line', { x1: LABEL, x2: W - 10, y1: y + ROW, y2: y + ROW, stroke: '#eceff4' }));
    if (row.kind === 'hall') {
      // Overlapping connections (two tabs, two devices) are drawn as thinner stacked bars.
      const mine = conns.filter((c) => c.hall === row.hall);
      const lanes = [];
      const laneOf = new Map();
      for (const c of mine) {
        let lane = lanes.findIndex((end) => end <= c.start);
        if (lane < 0) lane = lanes.push(0) - 1;
        lanes[lane] = c.end ?? now;
        laneOf.set(c, lane);
      }
      const h = (ROW - 12) / Math.max(1, lanes.length);
      for (const c of mine) {
        root.append(svg('rect', { x: x(c.start), y: y + 6 + laneOf.get(c) * h, width: Math.max(2, x(c.end ?? now) - x(c.start)), height: h - 1, rx: 3,
          fill: colour(row.hall), 'fill-opacity': c.end && !c.closed ? 0.45 : 0.8 },
        tip(`${c.conn}: ${at(c.start)} — ${c.end ? at(c.end) : 'на связи'}${c.end && !c.closed ? ' (оборвалось без закрытия)' : ''}`)));
      }
      for (const p of prompts.filter((q) => q.hall === row.hall)) {
        const fill = STATUS_FILL[p.status] || '#8a94a6';
        const mark = p.status === 'confirmed' ? svg('circle', { cx: x(p.ts), cy: y + 8, r: 6, fill })
          : p.status === 'not_confirmed' ? svg('path', { d: `M${x(p.ts) - 5} ${y + 3} l10 10 m0 -10 l-10 10`, stroke: fill, 'stroke-width': 2.5 })
            : svg('circle', { cx: x(p.ts), cy: y + 8, r: 5, fill: '#fff', stroke: fill, 'stroke-width': 2 });
        root.append(svg('g', {},
          tip(`Окно ${p.prompt}: ${at(p.ts)} — ${at(p.closes)}. ${p.label}`),
          svg('rect', { x: x(p.ts), y: y + 2, width: Math.max(2, x(p.closes) - x(p.ts)), height: ROW - 4, fill, 'fill-opacity': 0.18 }),
          svg('line', { x1: x(p.ts), x2: x(p.ts), y1: y + 2, y2: y + ROW - 2, stroke: fill, 'stroke-width': 2 }),
          mark));
      }
    } else if (row.kind === 'active') {
      for (const a of ev.active || []) {
        root.append(svg('rect', { x: x(a.start), y: y + 8, width: Math.max(2, x(a.end ?? now) - x(a.start)), height: ROW - 16, fill: colour(a.hall) },
          tip(`Активен ${hallTitle(a.hall)}: ${at(a.start)} — ${a.end ? at(a.end) : 'сейчас'}`)));
      }
    } else {
      for (const c of row.s.counted || []) {
        root.append(svg('rect', { x: x(c.start), y: y + 10, width: Math.max(2, x(c.end) - x(c.start)), height: ROW - 20, fill: '#1b8a4a' },
          tip(`Засчитано: ${at(c.start)} — ${at(c.end)}`)));
      }
    }
  });

  const wrap = document.createElement('div');
  wrap.className = 'timeline-wrap';
  wrap.append(root);
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = '<span><i style="background:#1d5aa6"></i>подключение (цвет зала; бледнее — оборвалось)</span>'
    + '<span><i style="background:#1b8a4a"></i>засчитанное время, ● окно подтверждено</span>'
    + '<span><i style="background:#c62828"></i>✕ показано, не подтверждено</span>'
    + '<span><i style="background:#8a94a6"></i>○ не показано или вне сессии</span>'
    + '<span><i style="background:#eef3fb;border:1px solid #d5dae2"></i>время сессии</span>';
  const box = document.createElement('div');
  box.append(wrap, legend);
  return box;
}
