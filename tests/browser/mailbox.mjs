// Personal links come by e-mail. tests/browser.rs runs an SMTP sink for the server and serves
// what it received at MAILBOX (`GET /letters?to=EMAIL` → [{subject, link}]); these helpers
// take a viewer's link from there, as the viewer would from their letter.

const MAILBOX = (process.env.MAILBOX || '').replace(/\/$/, '');

/** The link of letter number `n` (1-based) to `email`, waiting up to 15 s for it. */
export async function linkFromMail(email, n = 1) {
  if (!MAILBOX) throw new Error('MAILBOX is not set: run the script from tests/browser.rs');
  for (let i = 0; i < 150; i++) {
    const letters = await (await fetch(`${MAILBOX}/letters?to=${encodeURIComponent(email)}`)).json();
    if (letters.length >= n && letters[n - 1].link) return letters[n - 1].link;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no letter number ${n} with a link for ${email}`);
}

/** Registers a doctor over the API as the page does (with the consent texts' versions);
 *  returns the HTTP status and, once the letter arrives, the personal link. */
export async function registerOverApi(base, { name, email, phone }) {
  const { texts } = await (await fetch(`${base}/api/texts`)).json();
  const version = (kind) => texts.find((t) => t.kind === kind).version;
  const res = await fetch(`${base}/api/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, email, phone, education: 'higher', specialty: 'рентгенология',
      consent_personal_data: true, consent_terms: true,
      consent_personal_data_version: version('personal-data'), consent_terms_version: version('terms') }),
  });
  if (res.status !== 202) return { status: res.status, link: null };
  return { status: res.status, link: await linkFromMail(email) };
}
