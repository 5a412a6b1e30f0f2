// A viewer's appeal about one session on their results page: «Подать обращение» once the
// session is over and does not count for them, the text editable while it waits, and the
// organiser's answer shown plainly. The server decides whether an appeal may be filed; the
// page only offers it where it would be accepted and shows the server's sentence otherwise.

import { api, el, say } from './common.js';

const MAX_CHARS = 2000;

/** The organiser's decision in force, beside the rules' verdict. */
export function decisionLine(decision) {
  if (!decision) return null;
  const kind = decision.credited ? 'ok' : 'warn';
  const title = decision.credited ? 'Сессия вам засчитана решением организатора.' : 'Сессия вам не засчитана решением организатора.';
  return el('p', { class: 'notice decision', dataset: { kind } },
    el('strong', { text: title }), ' Причина: ', decision.reason);
}

/** The appeal block of a session card; `reload` redraws the page after a change. */
export function appealBlock(s, query, reload) {
  const a = s.appeal;
  const box = el('div', { class: 'appeal', dataset: { session: s.id } });
  if (a && a.state === 'answered' && a.answer) {
    const granted = a.answer.grant;
    box.append(el('p', { class: 'notice appeal-answer', dataset: { kind: granted ? 'ok' : 'warn' } },
      el('strong', { text: granted ? 'Ответ на ваше обращение: сессия засчитана.' : 'Ответ на ваше обращение: отказано.' }),
      ' Причина: ', a.answer.reason));
  }
  if (a && a.state === 'open') {
    box.append(
      el('p', { class: 'notice', dataset: { kind: 'info' } },
        el('strong', { text: 'Ваше обращение ждёт ответа организатора.' }),
        ' Ответ появится здесь и придёт на почту.'),
      el('blockquote', { class: 'appeal-text', text: a.text }),
      toggle('Изменить обращение', () => form(s, query, reload, a)));
    return box;
  }
  if (s.phase === 'over' && !s.credited) {
    box.append(toggle('Подать обращение', () => form(s, query, reload, null)));
  }
  return box.childElementCount ? box : null;
}

/** A button that opens the form in its place. */
function toggle(label, makeForm) {
  const button = el('button', { type: 'button', class: 'secondary small' }, label);
  button.addEventListener('click', () => {
    const f = makeForm();
    button.replaceWith(f);
    f.querySelector('textarea').focus();
  });
  return button;
}

function form(s, query, reload, existing) {
  const id = `appeal-${s.id}`;
  const area = el('textarea', { id, name: 'text', rows: '5', maxlength: String(MAX_CHARS), required: true,
    'aria-describedby': `${id}-hint` });
  area.value = existing ? existing.text : '';
  const hint = el('p', { class: 'muted small', id: `${id}-hint` },
    'Опишите, что случилось: когда вы смотрели, что не работало. Организатор сверит это с журналом подключений. До ',
    String(MAX_CHARS), ' знаков.');
  const status = el('p', { class: 'notice', role: 'status', hidden: true });
  const submit = el('button', { type: 'submit' }, existing ? 'Сохранить' : 'Отправить обращение');
  const f = el('form', { class: 'appeal-form', novalidate: true },
    el('label', { for: id, text: `Обращение по сессии «${s.title}»` }), area, hint, status,
    el('p', { class: 'row' }, submit,
      el('button', { type: 'button', class: 'secondary', onclick: () => reload() }, 'Отмена')));
  // The server's objection goes once the viewer starts mending the text.
  area.addEventListener('input', () => { if (status.dataset.kind === 'error') say(status, ''); });
  f.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      if (existing) {
        await api(`/api/me/appeals/${existing.id}?token=${query}`, { method: 'POST', body: { text: area.value } });
      } else {
        await api(`/api/me/appeals?token=${query}`, { method: 'POST', body: { session: s.id, text: area.value } });
      }
      await reload();
    } catch (e) {
      status.hidden = false;
      say(status, e.message, 'error');
      submit.disabled = false;
      area.focus();
    }
  });
  return f;
}
