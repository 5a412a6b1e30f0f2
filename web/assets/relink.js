// «Прислать ссылку ещё раз»: one small form on the registration page and on the page of a link
// that does not work. The server answers the same whether or not the address is registered,
// so the page can only repeat what it says; a limit (one letter per address every few
// minutes) comes back as 429 with its own message.

import { api, say } from './common.js';

const $ = (id) => document.getElementById(id);

/** Wires the form `#relink-form` (input `#relink-email`, status `#relink-status`). */
export function setupRelink() {
  const form = $('relink-form');
  if (!form) return;
  const input = $('relink-email');
  const error = $('err-relink-email');
  const status = $('relink-status');
  const button = $('relink-submit');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    say(status, '');
    button.disabled = true;
    try {
      const r = await api('/api/relink', { method: 'POST', body: { email: input.value } });
      say(status, `${r.message} Не пришло — проверьте папку «Спам».`, 'ok');
    } catch (e) {
      const field = e.fields?.find((f) => f.field === 'email');
      if (e.status === 422 && field) {
        error.textContent = field.message;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      } else {
        say(status, e.message, e.status === 429 ? 'warn' : 'error');
      }
    } finally {
      button.disabled = false;
    }
  });
}
