// An in-page confirmation instead of the browser's `confirm()`: the page's one modal
// <dialog id="confirm-dialog"> with a title, what will happen, an optional warning and two
// buttons. Accessible: labelled by its title and described by its text; focus starts on the
// safe choice («Отмена») and cycles inside while it is open (Tab, Shift+Tab); Esc cancels;
// focus goes back to the control that opened it.

const $ = (id) => document.getElementById(id);

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function trapFocus(event) {
  if (event.key !== 'Tab') return;
  const dialog = event.currentTarget;
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((n) => !n.closest('[hidden]'));
  if (!items.length) return;
  const first = items[0];
  const last = items.at(-1);
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/**
 * Asks and resolves to true when the organiser confirms. `warning`: a sentence shown in a
 * warning box (e.g. the mail server is unreachable); `confirm`: the confirming button's words,
 * which should say what it does («Отправить 25 писем»); `opener`: where focus returns (the
 * active element by default).
 */
export function ask({ title, text = '', warning = '', confirm = 'Да', cancel = 'Отмена', opener = document.activeElement }) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-text').hidden = !text;
  $('confirm-warning').textContent = warning;
  $('confirm-warning').hidden = !warning;
  $('confirm-yes').textContent = confirm;
  $('confirm-no').textContent = cancel;
  dialog.returnValue = '';
  if (!dialog.dataset.wired) {
    dialog.dataset.wired = '1';
    dialog.addEventListener('keydown', trapFocus);
  }
  dialog.showModal();
  $('confirm-no').focus();
  return new Promise((resolve) => {
    // Esc fires `cancel` and closes the dialog with an empty returnValue: a «no».
    dialog.addEventListener('close', () => {
      if (opener && document.contains(opener)) opener.focus();
      resolve(dialog.returnValue === 'yes');
    }, { once: true });
  });
}
