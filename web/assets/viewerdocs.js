// One viewer's documents, offered in every table row that names a viewer (results, search):
// the printable evidence report for an appeal and the certificate PDF. They open in a new tab;
// if one cannot be made (no codes yet, the viewer is gone, the sign-in expired) that tab shows
// a Russian page with a way back, never raw JSON.

import { el } from './common.js';

const base = (id) => `/api/org/viewers/${encodeURIComponent(id)}`;
const link = (href, text, label) =>
  el('a', { class: 'button secondary small', href, target: '_blank', rel: 'noopener', 'aria-label': label }, text);

/** The report link, and the certificate link when the viewer holds codes (`codes` > 0). */
export function docLinks(id, name, codes) {
  const who = name || id;
  return [
    link(`${base(id)}/report`, 'Отчёт', `Отчёт для апелляции: ${who} (откроется в новой вкладке)`),
    codes > 0
      ? link(`${base(id)}/certificate.pdf`, 'Свидетельство', `Свидетельство PDF: ${who} (откроется в новой вкладке)`)
      : el('span', { class: 'muted small', text: 'кодов НМО нет' }),
  ];
}
