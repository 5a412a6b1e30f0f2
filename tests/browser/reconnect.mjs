// The player when the server goes away and comes back, driven by tests/browser.rs over
// stdin/stdout: it prints READY once a viewer is watching, waits for KILLED, checks that the
// page says plainly that it is offline, prints OFFLINE, waits for RESTARTED, and checks that
// the page reconnects by itself and counts again. Exits non-zero when a check fails.

import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { registerOverApi } from './mailbox.mjs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const BASE = (process.env.BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = process.env.SCREENSHOTS || '/tmp/yavka-shots';
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const waitFor = async (word) => {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`stdin closed before ${word}`);
    if (value.trim() === word) return;
  }
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
let failed = false;
const check = (cond, what) => { console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`); if (!cond) failed = true; };
try {
  const { link } = await registerOverApi(BASE, { name: 'Смирнова Ольга Петровна', email: 'olga@example.org', phone: '+79165550000' });
  const page = await (await browser.newContext({ locale: 'ru-RU' })).newPage();
  await page.goto(`${link}&hall=hall-1`);
  await page.locator('#status[data-state=counting]').waitFor({ state: 'attached', timeout: 15_000 });
  console.log('READY');
  await waitFor('KILLED');
  await page.locator('#status[data-state=offline]').waitFor({ state: 'attached', timeout: 15_000 });
  const text = await page.textContent('#status-text');
  check(text.includes('Нет связи'), `offline, the status line says so: «${text}»`);
  await page.screenshot({ path: path.join(SHOTS, 'player-offline.png') });
  console.log('OFFLINE');
  await waitFor('RESTARTED');
  await page.locator('#status[data-state=counting]').waitFor({ state: 'attached', timeout: 30_000 });
  check(true, 'the player reconnects by itself and time is counted again');
  check(await page.isVisible('#tally-body'), 'the tally is shown again');
} catch (e) {
  check(false, `stopped: ${e.message.split('\n')[0]}`);
}
await browser.close();
console.log('DONE');
process.exit(failed ? 1 : 0);
