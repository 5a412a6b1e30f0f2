// Telling a person from a script, in a real browser (issue 15), against the running server of
// tests/browser.rs (a session going on now in hall-2):
//
//   BASE=… MAILBOX=… ORG_LOGIN=admin ORG_PASSWORD=… SCREENSHOTS=/tmp/shots node tests/browser/flags.mjs
//
// A doctor watches hall-2 on the player page and answers a prompt with a real click; a script
// holding another doctor's personal link opens the websocket from a page that is not the player
// and answers the same prompt the instant it arrives, sending nothing about the answer. The
// organiser opens «Требуют внимания»: the script is there with its reasons, the doctor is not;
// her own data shows what the page and the server recorded of her click (printed: this is
// what a real click gives); the organiser notes that she checked, and the note stays.

import path from 'node:path';
import { registerOverApi } from './mailbox.mjs';
import { BASE, SHOTS, WAIT, check, newPage, signedIn, finish } from './harness.mjs';

try {
  const doctor = await registerOverApi(BASE, { name: 'Смирнова Вера Павловна', email: 'vera.smirnova@example.org', phone: '+79165550101' });
  const bot = await registerOverApi(BASE, { name: 'Автокликов Семён Ильич', email: 'semen.bot@example.org', phone: '+79165550102' });
  check(doctor.status === 202 && bot.status === 202, 'a doctor and the owner of the script register');

  // The doctor on the player page.
  const vera = await newPage('vera');
  await vera.goto(`${doctor.link}&hall=hall-2`);
  await vera.locator('#status[data-state=counting]').waitFor({ state: 'attached', ...WAIT });

  // The script: the personal link's token, a websocket opened from a page that is not the
  // player (the site's 404 page), an answer the moment a prompt arrives (an earlier prompt of
  // the hall may still be open: it answers that too), nothing else.
  const scriptPage = await newPage('script');
  await scriptPage.goto(`${BASE}/no-such-page`);
  const token = new URL(bot.link).searchParams.get('token');
  await scriptPage.evaluate(([t]) => new Promise((ready) => {
    window.__answered = [];
    window.__heard = [];
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/ws?token=${t}&hall=hall-2`);
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      window.__heard.push(msg.type === 'error' ? `error:${msg.code}` : msg.type);
      if (msg.type === 'welcome') ready();
      if (msg.type === 'prompt') {
        ws.send(JSON.stringify({ type: 'confirm', prompt: msg.id, answer: msg.challenge.ask }));
      }
      if (msg.type === 'confirmed') window.__answered.push(msg.prompt);
    };
  }), [token]);
  check(true, 'the script holds a socket of its own');

  // The organiser fires a prompt in hall 2.
  const org = await signedIn(await newPage('organiser', { viewport: { width: 1366, height: 900 } }));
  const fired = await org.evaluate(async () => (await fetch('/api/org/prompts', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hall: 'hall-2' }),
  })).status);
  check(fired === 200, `a prompt is fired in hall 2 (${fired})`);

  // She reads the task and clicks the right number.
  await vera.locator('#prompt[open]').waitFor(WAIT);
  const ask = (await vera.textContent('#prompt-ask strong')).trim();
  await vera.locator('#prompt-answers button').filter({ hasText: new RegExp(`^${ask}$`) }).click();
  await vera.locator('#prompt').waitFor({ state: 'hidden', ...WAIT });
  const answered = await scriptPage.waitForFunction(() => window.__answered.length >= 1, null, WAIT)
    .then(() => true, () => false);
  check(answered, `the script's answer is counted too: a flag changes no verdict (it heard ${await scriptPage.evaluate(() => window.__heard.join(', '))})`);

  // What was recorded of her click, from her own copy of her data.
  const data = await vera.evaluate(async (link) => {
    const t = new URL(link).searchParams.get('token');
    return (await fetch(`/api/me/data?token=${t}`)).json();
  }, doctor.link);
  const confirm = (data.events || []).find((e) => e.kind === 'confirm');
  const connect = (data.events || []).filter((e) => e.kind === 'connect').pop();
  check(confirm && confirm.hints && confirm.hints.trusted && confirm.hints.input === 'pointer' && confirm.hints.rendered,
    `her answer is a trusted pointer click on a drawn dialog (${JSON.stringify(confirm?.hints)})`);
  check(confirm && confirm.reaction_ms > 0, `the server timed her answer: a real click in the page took ${confirm?.reaction_ms} ms from the prompt written to her socket`);
  check(connect && connect.page_loaded === true && /Chrom/.test(connect.browser || ''), `her connection came from the player page, browser recorded (${connect?.browser})`);

  // «Требуют внимания».
  await org.click('#flags-refresh');
  const item = org.locator('#flags-list article', { hasText: 'Автокликов Семён Ильич' });
  await item.waitFor(WAIT);
  const text = await item.textContent();
  check(text.includes('Ответы без действия человека на странице') && text.includes('Подключение без страницы плеера'),
    `the script is flagged with its reasons (${text.replace(/\s+/g, ' ').slice(0, 300)})`);
  check(await org.locator('#flags-list article', { hasText: 'Смирнова Вера Павловна' }).count() === 0, 'the doctor who clicked is not flagged');
  await org.locator('#flags').scrollIntoViewIfNeeded();
  await org.locator('#flags').screenshot({ path: path.join(SHOTS, 'dashboard-flags.png') });

  // She checks and notes it.
  await item.locator('summary').click();
  await item.locator('button[type=submit]').click();
  await item.locator('[role=status]', { hasText: 'Напишите' }).waitFor(WAIT);
  check(true, 'a review without a note is refused, in Russian');
  await item.locator('textarea').fill('Ответ за миллисекунды не со страницы плеера: скрипт. Сессию не засчитываем.');
  await item.locator('button[type=submit]').click();
  const reviewed = org.locator('#flags-list article', { hasText: 'Автокликов Семён Ильич' });
  await reviewed.locator('.badge', { hasText: /^проверено$/ }).waitFor(WAIT);
  check((await reviewed.textContent()).includes('скрипт'), 'the note is shown with the flag');
  await org.locator('#flags').screenshot({ path: path.join(SHOTS, 'dashboard-flags-reviewed.png') });

  const phone = await signedIn(await newPage('organiser-phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }));
  await phone.locator('#flags-list article').first().waitFor(WAIT);
  const overflow = await phone.evaluate(() => document.getElementById('flags').scrollWidth - document.getElementById('flags').clientWidth);
  check(overflow <= 0, `«Требуют внимания» fits a phone (overflow ${overflow}px)`);
  await phone.locator('#flags').screenshot({ path: path.join(SHOTS, 'dashboard-flags-phone.png') });
} catch (e) {
  check(false, `flags story stopped: ${e.message.split('\n')[0]}`);
}

await finish();
