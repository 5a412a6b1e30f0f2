// The dashboard's «Зрители за день»: the day's history from the server (per hall and minute,
// summed over all server processes, kept in the store), then the live figures added minute by
// minute while the page is open. A reload or a dashboard opened late shows the whole day.
// uPlot draws it; the time axis is drawn here: 24-hour times in the forum's zone at round
// steps chosen to fit the width, so no label ever repeats.

import { api, formatter } from './common.js';

const MINUTE = 60; // the chart's x values are Unix seconds
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720].map((m) => m * MINUTE);
const LABEL_PX = 56; // room one «09:45» needs, with a gap
const MIN_SPAN = 30 * MINUTE; // a chart of a few seconds would have nothing to label
const COUNT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000];

/** Seconds the zone is ahead of UTC at Unix second `t`. */
function zoneOffset(t, tz) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(t * 1000)).map((x) => [x.type, Number(x.value)]));
  return (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000) - Math.floor(t);
}

/** Round local times between `min` and `max` (seconds): the finest step whose labels fit. */
export function timeTicks(min, max, room, tz) {
  const fit = Math.max(2, Math.floor(room / LABEL_PX));
  const offset = zoneOffset(min, tz);
  const at = (step) => {
    const ticks = [];
    for (let t = Math.ceil((min + offset) / step) * step - offset; t <= max; t += step) ticks.push(t);
    return ticks;
  };
  if (!Number.isFinite(min) || !Number.isFinite(max) || max <= min) return [];
  for (const step of STEPS) {
    const ticks = at(step);
    if (ticks.length <= fit) return ticks;
  }
  // A span longer than the coarsest step serves (a scale not yet ranged, say): thinned so that
  // the labels never pile up into a black bar under the axis.
  const ticks = at(STEPS.at(-1));
  const every = Math.ceil(ticks.length / fit);
  return ticks.filter((_, k) => k % every === 0);
}

export class DayChart {
  /** `halls`: [{id, title}]; `colours`: one per hall. */
  constructor({ box, note, tz, halls, colours }) {
    Object.assign(this, { box, note, tz, halls, colours });
    this.clock = formatter(tz, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    this.dayOf = formatter(tz, { year: 'numeric', month: '2-digit', day: '2-digit' }); // «01.04.2026»
    this.day = null;
    this.x = [];
    this.viewers = halls.map(() => []);
    this.connections = halls.map(() => []);
    this.plot = null;
  }

  /** Loads the day's history (today's in the forum's zone) and draws it. */
  async load() {
    const h = await api('/api/org/history');
    this.day = this.dayOf(h.from);
    const byHall = Object.fromEntries(h.halls.map((x) => [x.hall, x]));
    this.x = h.times.map((t) => Math.floor(t / 1000));
    this.viewers = this.halls.map((hall) => byHall[hall.id]?.viewers ?? this.x.map(() => null));
    this.connections = this.halls.map((hall) => byHall[hall.id]?.connections ?? this.x.map(() => null));
    this.draw();
  }

  /**
   * The live figures at `now` (ms): they become the point of the current minute, replacing
   * it while the minute lasts. A jump over minutes leaves a gap, as the history does.
   */
  live(now, liveHalls) {
    if (this.day && this.dayOf(now) !== this.day) {
      // Past midnight: a new day's chart.
      this.load().catch(() => {});
      return;
    }
    const minute = Math.floor(now / 60_000) * MINUTE;
    const byHall = Object.fromEntries(liveHalls.map((h) => [h.hall, h]));
    const last = this.x.at(-1);
    if (last !== undefined && minute < last) return;
    if (last !== undefined && minute > last + MINUTE) this.push(last + MINUTE, null);
    if (last !== minute) this.push(minute, null);
    const i = this.x.length - 1;
    this.halls.forEach((hall, k) => {
      this.viewers[k][i] = byHall[hall.id]?.viewers ?? 0;
      this.connections[k][i] = byHall[hall.id]?.connections ?? 0;
    });
    this.draw();
  }

  push(t, value) {
    this.x.push(t);
    this.viewers.forEach((s) => s.push(value));
    this.connections.forEach((s) => s.push(value));
  }

  data() {
    return [this.x, ...this.viewers, ...this.connections];
  }

  draw() {
    this.describe();
    const uPlot = window.uPlot;
    if (!uPlot) return;
    if (this.plot) {
      this.plot.setData(this.data());
      return;
    }
    const height = () => (this.box.clientWidth < 600 ? 220 : 260);
    const colour = (k) => this.colours[k % this.colours.length];
    this.plot = new uPlot({
      width: this.box.clientWidth || 600,
      height: height(),
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => {
            const n = this.x.length;
            if (!n) {
              const now = Date.now() / 1000;
              return [now - MIN_SPAN, now];
            }
            // Within the data: uPlot pads a scale of one point by days, which drew the only
            // minute at the left edge and a week of empty axis after it.
            const [first, last] = [this.x[0], this.x[n - 1]];
            const a = min == null || min < first ? first : min;
            const b = max == null || max > last ? last : max;
            return [Math.min(a, b - MIN_SPAN), b];
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil((max || 0) * 1.1))] },
      },
      axes: [{
        space: LABEL_PX,
        splits: (u, _i, min, max) => timeTicks(min, max, u.bbox.width / (window.devicePixelRatio || 1), this.tz),
        values: (_u, splits) => {
          const labels = splits.map((s) => this.clock(s * 1000));
          this.box.dataset.ticks = labels.join(' ');
          return labels;
        },
      }, {
        label: 'зрителей',
        incrs: COUNT_INCRS,
        values: (_u, splits) => splits.map((v) => v.toLocaleString('ru-RU')),
      }],
      series: [
        { label: 'Время', value: (_u, v) => (v == null ? '—' : this.clock(v * 1000)) },
        ...this.halls.map((h, k) => ({ label: `${h.title}, зрителей`, stroke: colour(k), width: 2 })),
        // Connections are one click away in the legend, not on by default: two lines per hall
        // would crowd the picture an organiser glances at.
        ...this.halls.map((h, k) => ({ label: `${h.title}, соединений`, stroke: colour(k), width: 1.5, dash: [5, 4], show: false })),
      ],
    }, this.data(), this.box);
    new ResizeObserver(() => this.plot.setSize({ width: this.box.clientWidth, height: height() })).observe(this.box);
  }

  /** What the picture shows, in words: the chart's accessible name and the note under it. */
  describe() {
    const n = this.x.length;
    this.box.dataset.points = String(this.x.filter((_, i) => this.viewers.some((s) => s[i] != null)).length);
    this.box.dataset.first = n ? String(this.x[0] * 1000) : '';
    if (!n) {
      this.note.textContent = 'Данных за сегодня пока нет: график начнётся с первой минуты работы сервера.';
      this.box.setAttribute('aria-label', 'График числа зрителей по залам за день: данных пока нет.');
      return;
    }
    const parts = this.halls.map((hall, k) => {
      const s = this.viewers[k];
      let peak = -1;
      let at = 0;
      s.forEach((v, i) => { if (v != null && v > peak) { peak = v; at = i; } });
      const now = s.at(-1);
      return peak < 0 ? `${hall.title}: нет данных`
        : `${hall.title}: сейчас ${now ?? '—'}, больше всего ${peak} в ${this.clock(this.x[at] * 1000)}`;
    });
    const span = `с ${this.clock(this.x[0] * 1000)} до ${this.clock(this.x[n - 1] * 1000)}`;
    this.note.textContent = `Зрители за день ${span}, по минутам, по всем серверам. ${parts.join('; ')}. Пунктир — соединения (включите в подписи под графиком).`;
    this.box.setAttribute('aria-label', `График числа зрителей по залам за день, ${span}. ${parts.join('; ')}.`);
  }
}
