// The public page: the forum programme, the registration form and «Прислать ссылку ещё раз».
// The personal link is never shown here: it comes by e-mail, so the page answers the same
// whether or not the address was registered before.

import { api, el, say, zoneLabel, todayIn, dayTitle } from './common.js';
import { renderProgramme } from './programme.js';
import { setupRelink } from './relink.js';

const $ = (id) => document.getElementById(id);
const form = $('reg-form');
const FIELDS = ['name', 'email', 'phone', 'education', 'specialty', 'snils', 'consent_personal_data', 'consent_terms'];

let catalogue = { higher: [], secondary: [] };
/** Versions of the consent texts the form shows: { 'personal-data': 2, terms: 1 }. */
let versions = {};
let timeZone = 'Europe/Moscow';

async function loadProgramme() {
  try {
    const programme = await api('/api/forum');
    const tz = programme.forum.timezone;
    timeZone = tz;
    $('forum-title').textContent = programme.forum.title;
    document.title = `${programme.forum.title} — программа и регистрация`;
    $('programme-tz').textContent = `Время указано по часовому поясу форума: ${zoneLabel(tz)}.`;
    say($('programme-status'), '');
    const today = todayIn(tz);
    const open = programme.days.some((d) => d.date === today) ? today : programme.days[0]?.date;
    renderProgramme($('programme'), programme, { open });
    if (programme.registration && !programme.registration.open) closeRegistration(programme.registration.closed);
  } catch (e) {
    if (e.forums?.length) {
      chooseForum(e.forums);
      return;
    }
    say($('programme-status'), `Не удалось загрузить программу: ${e.message}`, 'error');
  }
}

/** Several forums are open: the page lists them, each a link to its own page. */
function chooseForum(forums) {
  const status = $('programme-status');
  say(status, 'Сейчас открыто несколько форумов. Выберите свой:');
  status.append(el('ul', {}, forums.map((f) =>
    el('li', {}, el('a', { href: `/?forum=${encodeURIComponent(f.id)}`, text: f.title }),
      ` — ${f.state_label || ''}`))));
  form.hidden = true;
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

// ---- consent texts: the form names the version it shows and sends it back ----

async function loadTexts() {
  try {
    const { texts } = await api('/api/texts');
    const date = new Intl.DateTimeFormat('ru-RU', { day: 'numeric', month: 'long', year: 'numeric', timeZone });
    for (const t of texts) {
      versions[t.kind] = t.version;
      $(`link-${t.kind}`).href = t.page;
      $(`ver-${t.kind}`).textContent = `(редакция ${t.version} от ${date.format(new Date(t.created_at))})`;
    }
  } catch (e) {
    say($('form-status'), `Не удалось загрузить тексты согласий: ${e.message}`, 'error');
  }
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
    consent_personal_data_version: versions['personal-data'] ?? null,
    consent_terms_version: versions.terms ?? null,
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
      // A ticked box refused for its version: the text changed meanwhile. Show the new one's
      // version and ask for the tick again.
      const stale = e.fields.filter((f) => f.field.startsWith('consent_') && $(f.field).checked);
      if (stale.length) {
        for (const f of stale) $(f.field).checked = false;
        await loadTexts();
      }
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

function showDone({ email, message, programme, letter_interval_minutes: interval }) {
  form.hidden = true;
  const done = $('reg-done');
  done.hidden = false;
  $('done-message').textContent = message;
  $('done-email').textContent = email;
  if (interval) $('done-interval').textContent = String(interval);
  $('relink-email').value = email;
  const mine = programme.days.flatMap((d) => d.sessions.filter((s) => s.accredited).map((s) => ({ ...s, date: d.date })));
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

/** «Заполните форму ещё раз»: back to the form as it was, to fix the address. */
function editAgain(event) {
  event.preventDefault();
  $('reg-done').hidden = true;
  form.hidden = false;
  $('email').focus();
}

form.addEventListener('submit', submit);
$('specialty-search').addEventListener('input', fillSpecialties);
for (const radio of form.elements.education) radio.addEventListener('change', fillSpecialties);
$('again-link').addEventListener('click', editAgain);
setupRelink();

loadProgramme().then(loadTexts);
loadCatalogue();
