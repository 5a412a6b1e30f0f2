// The consent texts as readers see them. The format is small on purpose, so an organiser can
// type it in a text box: paragraphs separated by blank lines, «## » starts a subheading,
// «- » starts a list item. Built with el(), never as HTML, so a text cannot inject markup.

import { el } from './common.js';

/** The body of a text as a list of nodes. */
export function renderText(body) {
  const nodes = [];
  for (const block of body.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim());
    let list = null;
    let para = [];
    const flush = () => {
      if (para.length) nodes.push(el('p', { text: para.join(' ') }));
      para = [];
    };
    for (const line of lines) {
      if (line.startsWith('## ')) {
        flush();
        list = null;
        nodes.push(el('h2', { text: line.slice(3).trim() }));
      } else if (line.startsWith('- ')) {
        flush();
        if (!list) { list = el('ul'); nodes.push(list); }
        list.append(el('li', { text: line.slice(2).trim() }));
      } else {
        list = null;
        para.push(line.trim());
      }
    }
    flush();
  }
  return nodes;
}

/** "3 марта 2026 г." in the forum's zone. */
export function dateIn(timeZone) {
  const f = new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', year: 'numeric', timeZone });
  return (ms) => f.format(new Date(ms));
}
