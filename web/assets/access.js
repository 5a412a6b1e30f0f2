// What the signed-in organiser's role allows, for every script of the dashboard. The server
// checks each request itself; the page only hides what the role cannot use, so nobody meets a
// button that answers «Недостаточно прав». Elements marked `data-needs="manage"` (a
// permission from GET /api/org/me) show only when the role has it.

const current = { me: null };

/** Remembers who signed in and shows or hides the marked elements. */
export function setMe(me) {
  current.me = me;
  for (const node of document.querySelectorAll('[data-needs]')) node.hidden = !may(node.dataset.needs);
}

/** Whether the signed-in role has a permission: view, operate, manage, accounts, audit. */
export const may = (permission) => Boolean(current.me?.permissions?.includes(permission));

export const me = () => current.me;
