// The public page: the forum programme and the registration form.

import { api, el, say, zoneLabel, todayIn, dayTitle } from './common.js';
import { renderProgramme } from './programme.js';

const $ = (id) => document.getElementById(id);
const form = $('reg-form');
const FIELDS = ['name', 'email', 'phone', 'education', 'specialty', 'snils', 'consent_personal_data', 'consent_terms'];

let catalogue = { higher: [], secondary: [] };

async function loadProgramme() {
  try {
    const programme = await api('/api/forum');
    const tz = programme.forum.timezone;
    $('forum-title').textContent = programme.forum.title;
    document.title = `${programme.forum.title} — программа и регистрация`;
    $('programme-tz').textContent = `Время указано по часовому поясу форума: ${zoneLabel(tz)}.`;
    say($('programme-status'), '');
    const today = todayIn(tz);
    const open = programme.days.some((d) => d.date === today) ? today : programme.days[0]?.date;
    renderProgramme($('programme'), programme, { open });
    if (programme.registration && !programme.registration.open) closeRegistration(programme.registration.closed);
  } catch (e) {
    say($('programme-status'), `Не удалось загрузить программу: ${e.message}`, 'error');
  }
}

/** After the forum's end the form is replaced by the server's explanation. */
function closeRegistration(reason) {
  form.hidden = true;
  say($('reg-closed'), reason || 'Регистрация закрыта.', 'warn');
}

// ---- specialty: a search box filtering a native <select>, which every phone renders accessibly ----

const education = () => form.elements.education.value;

function fillSpecialties() {
  const select = $('specialty');
  const query = $('specialty-search').value.trim().toLowerCase();
  const previous = select.value;
  const names = (catalogue[education()] || []).filter((n) => n.includes(query));
  select.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
  if (names.includes(previous)) select.value = previous;
  else if (names.length === 1) select.value = names[0];
  else select.selectedIndex = -1;
  $('specialty-count').textContent = query
    ? `Найдено: ${names.length}${names.length ? '' : ' — проверьте написание или уровень образования'}`
    : `В перечне ${names.length}`;
}

async function loadCatalogue() {
  try {
    catalogue = await api('/api/catalogue');
  } catch (e) {
    showFieldError('specialty', `Не удалось загрузить перечень специальностей: ${e.message}`);
  }
  fillSpecialties();
}

// ---- errors next to their fields ----

function showFieldError(field, message) {
  const target = $(`err-${field}`);
  if (target) target.textContent = message;
  const input = field === 'education' ? null : $(field);
  if (input) input.setAttribute('aria-invalid', 'true');
}

function clearErrors() {
  for (const f of FIELDS) {
    $(`err-${f}`).textContent = '';
    $(f)?.removeAttribute('aria-invalid');
  }
  say($('form-status'), '');
}

function focusFirstError() {
  const first = FIELDS.find((f) => $(`err-${f}`).textContent);
  if (!first) return;
  const target = first === 'education' ? form.querySelector('input[name="education"]:checked') : $(first);
  (first === 'specialty' ? $('specialty-search') : target)?.focus();
}

// ---- submit ----

function formBody() {
  return {
    name: $('name').value,
    email: $('email').value,
    phone: $('phone').value,
    education: education(),
    specialty: $('specialty').value,
    snils: $('snils').value.trim() || null,
    consent_personal_data: $('consent_personal_data').checked,
    consent_terms: $('consent_terms').checked,
  };
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const button = $('submit');
  button.disabled = true;
  button.textContent = 'Отправляем…';
  try {
    const result = await api('/api/register', { method: 'POST', body: formBody() });
    showDone(result);
  } catch (e) {
    if (e.status === 422 && e.fields.length) {
      for (const f of e.fields) showFieldError(f.field, f.message);
      say($('form-status'), 'Проверьте поля формы: под каждым полем с ошибкой написано, что исправить.', 'error');
      focusFirstError();
    } else {
      say($('form-status'), e.message, 'error');
    }
  } finally {
    button.disabled = false;
    button.textContent = 'Зарегистрироваться';
  }
}

function showDone({ viewer, link }) {
  form.hidden = true;
  const done = $('reg-done');
  done.hidden = false;
  $('personal-link').value = link;
  $('open-link').href = link;
  const mine = viewer.programme.days.flatMap((d) => d.sessions.filter((s) => s.accredited).map((s) => ({ ...s, date: d.date })));
  const box = $('my-sessions');
  if (mine.length) {
    box.replaceChildren(
      el('h3', { text: 'Баллы НМО для вашей специальности' }),
      el('ul', {}, mine.map((s) => el('li', { text: `${dayTitle(s.date)}, ${s.time} — ${s.title} (${s.credits} ЗЕТ)` }))));
  } else {
    box.replaceChildren(el('p', { class: 'notice', dataset: { kind: 'warn' },
      text: 'Для вашей специальности и уровня образования ни одна сессия форума не аккредитована: смотреть можно, но коды НМО не выдаются.' }));
  }
  done.focus();
  done.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function copyLink() {
  const input = $('personal-link');
  try {
    await navigator.clipboard.writeText(input.value);
    $('copy-status').textContent = 'Ссылка скопирована.';
  } catch {
    // Clipboard API needs a secure context; selecting the text lets the person copy by hand.
    input.select();
    $('copy-status').textContent = 'Выделите ссылку и скопируйте её вручную.';
  }
}

form.addEventListener('submit', submit);
$('specialty-search').addEventListener('input', fillSpecialties);
for (const radio of form.elements.education) radio.addEventListener('change', fillSpecialties);
$('copy-link').addEventListener('click', copyLink);
$('personal-link').addEventListener('focus', (e) => e.target.select());

loadProgramme();
loadCatalogue();
