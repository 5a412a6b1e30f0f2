// The forum programme as cards: per day, per hall, each session with its time, ЗЕТ and norms.
// Used by the public page (everything) and the player (with "accredited for you" badges).

import { el, dayTitle, audienceLines, plural } from './common.js';

function sessionCard(s, { showAccredited, now }) {
  const live = now >= s.starts && now < s.ends;
  const mine = s.accredited;
  const facts = el('ul', { class: 'facts' },
    el('li', {}, el('b', { text: `${s.credits} ЗЕТ` })),
    el('li', {}, 'не менее ', el('b', { text: `${s.min_minutes} мин` })),
    el('li', {}, 'подтверждений: ', el('b', { text: `${s.prompts_required} из ${s.prompts}` })),
  );
  const lists = audienceLines(s.audience).map(([label, names]) =>
    el('details', {},
      el('summary', { text: `${label}: ${names.length} ${plural(names.length, 'специальность', 'специальности', 'специальностей')}` }),
      el('ul', {}, names.map((n) => el('li', { text: n }))),
    ));
  let badge = null;
  if (showAccredited) {
    badge = mine
      ? el('span', { class: 'badge ok', text: 'баллы НМО для вас' })
      : el('span', { class: 'badge', text: 'не для вашей специальности' });
  }
  return el('article', { class: `session${showAccredited && !mine ? ' not-mine' : ''}${live ? ' now' : ''}` },
    el('div', { class: 'row' },
      el('span', { class: 'time', text: s.time }),
      live ? el('span', { class: 'badge warn', text: 'идёт сейчас' }) : null,
      el('span', { class: 'spacer' }),
      badge),
    el('div', { class: 'name', text: s.title }),
    facts,
    lists);
}

/**
 * Renders `programme` ({halls, days}) into `container`. `days` limits which dates are shown;
 * `open` is the date whose section starts expanded when days are collapsible.
 */
export function renderProgramme(container, programme, { showAccredited = false, now = Date.now(), days, open } = {}) {
  const hallTitle = Object.fromEntries(programme.halls.map((h) => [h.id, h.title]));
  container.replaceChildren();
  for (const day of programme.days) {
    if (days && !days.includes(day.date)) continue;
    const halls = el('div', { class: 'halls' });
    for (const hall of programme.halls) {
      const sessions = day.sessions.filter((s) => s.hall === hall.id);
      if (!sessions.length) continue;
      halls.append(el('div', { class: 'hall-col' },
        el('h4', { dataset: { hall: hall.id }, text: hallTitle[hall.id] || hall.id }),
        sessions.map((s) => sessionCard(s, { showAccredited, now }))));
    }
    const title = el('h3', { text: dayTitle(day.date) });
    if (open === undefined) {
      container.append(el('section', { class: 'day' }, title, halls));
    } else {
      container.append(el('details', { class: 'day', open: day.date === open },
        el('summary', {}, title), halls));
    }
  }
}

/**
 * Gives hall `id` the title `title` in a programme `renderProgramme` drew into `container`,
 * in place: a hall renamed during the broadcast keeps the days the viewer opened.
 */
export function retitleHall(container, id, title) {
  for (const h of container.querySelectorAll('h4[data-hall]')) {
    if (h.dataset.hall === id) h.textContent = title || id;
  }
}
