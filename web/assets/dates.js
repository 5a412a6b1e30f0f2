// Calendar dates as organisers read them: «1 апреля», with the year when it is not the
// current one in the forum's zone («1 апреля 2026»), so a past or next year's forum never
// passes for this year's.

const THIS_YEAR = (tz) => Number(new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric' }).format(new Date()));

/** "2026-04-01" → «1 апреля» this year, «1 апреля 2026» another year. */
export function dayMonth(isoDate, tz) {
  const d = new Date(`${isoDate}T12:00:00Z`); // a calendar date: UTC noon avoids zone shifts
  const year = d.getUTCFullYear() !== THIS_YEAR(tz);
  return new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', ...(year ? { year: 'numeric' } : {}), timeZone: 'UTC' })
    .format(d).replace(/\s*г\.$/, '');
}

/** A session as the results and lists name it: «1 апреля, 09:15–14:30 · Зал №1». */
export function sessionWhen(session, isoDate, hallTitle, tz) {
  return `${dayMonth(isoDate, tz)}, ${session.time} · ${hallTitle}`;
}
