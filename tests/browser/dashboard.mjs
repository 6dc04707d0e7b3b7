// SPDX-License-Identifier: MIT
// The dashboard end to end in Debian's headless chromium (driven by
// tests/integration/test_browser.sh, which runs paird in a network
// namespace). What only root can do (send datagrams, stop/start paird, run
// tshark) is asked of the shell on stdout, one command a line; it answers
// "ok" on stdin. Every wait is for a condition, bounded by the timeouts.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const { BASE, TOKEN, SHOTS, DL, PAIRD_HOST } = process.env;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function shell(cmd) {
  process.stdout.write(`${cmd}\n`);
  const { value, done } = await lines.next();
  if (done || value !== 'ok') throw new Error(`shell did not do: ${cmd}`);
}
const log = (m) => process.stderr.write(`  [browser] ${m}\n`);
// The ASCII column of the dump, its lines joined: "OOOO  HEX(47)  ASCII".
const ascii = (dump) => dump.split('\n').map((l) => l.slice(55)).join('');
function check(cond, what) { if (!cond) throw new Error(`check failed: ${what}`); }

const profile = mkdtempSync(join(tmpdir(), 'paird-chromium-'));
// A fresh profile (--user-data-dir, which playwright passes for a
// persistent context) so nothing of an earlier run is reused.
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
  acceptDownloads: true,
});
let failed = false;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(15000);
  const dialogs = [];
  const confirms = [];
  page.on('dialog', async (d) => {
    if (d.type() === 'confirm') { confirms.push(d.message()); await d.accept(); }
    else { dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss(); }
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  let portsFetched = 0;
  page.on('response', (r) => { if (r.url().endsWith('/api/v1/ports') && r.status() === 200) portsFetched++; });
  // Each page at both sizes; at 420 px nothing makes the whole page
  // scroll sideways (wide tables scroll in their own box).
  const shots = async (name) => {
    for (const [w, h] of [[1280, 800], [420, 800]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.screenshot({ path: join(SHOTS, `${name}-${w}x${h}.png`), fullPage: false });
      const sw = await page.evaluate(() => document.documentElement.scrollWidth);
      check(sw <= w, `${name} at ${w}px: the page is ${sw}px wide`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  };
  // The text of a port's row's state cell, and a capture list's rows.
  const stateCell = (name) => page.locator(`#ports tr[data-port="${name}"] td`).nth(2);
  const capRows = page.locator('#capture-list tbody tr');
  const linkCell = (what, i) => page.locator('#link tr', { has: page.locator('th', { hasText: new RegExp(`^${what}$`) }) })
    .locator('td').nth(i);
  const kernelCell = (what) => linkCell(what, 1);
  // A download through the page (fetch + blob, with the bearer token).
  const download = async (target, file) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(target)]);
    await d.saveAs(join(DL, file));
    return readFileSync(join(DL, file));
  };
  const PCAPNG_SHB = '0a0d0d0a';
  // The API as curl sees it, for what the page must not have done twice.
  const apiGet = async (path) => (await fetch(`${BASE}/api/v1${path}`,
    { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  const refreshes = async (n) => {
    const seen = portsFetched;
    for (let i = 0; portsFetched < seen + n; i++) {
      check(i < 100, `${n} more refreshes of the ports list`);
      await page.waitForResponse((r) => r.url().endsWith('/api/v1/ports'));
    }
  };

  log('the page asks for the token');
  await page.goto(`${BASE}/`);
  await page.locator('#auth').waitFor({ state: 'visible' });
  check((await page.title()).includes('127.0.0.1'), 'the title names the host');
  await shots('login');
  await page.fill('#token', TOKEN);
  await page.press('#token', 'Enter');
  await page.locator('#auth').waitFor({ state: 'hidden' });
  await page.locator('#empty').waitFor({ state: 'visible' });
  await page.evaluate(() => { window.noReload = true; });

  log('the title names the host (GET /api/v1/info, once the token is in)');
  await page.waitForFunction((h) => document.title === `paird — ${h}`, PAIRD_HOST);
  // The header follows once /healthz has answered, after the title: waited for, not raced.
  await page.waitForFunction((h) => (document.querySelector('#health').textContent || '').startsWith(h),
    PAIRD_HOST, { timeout: 10000 }).catch(() => {});
  check((await page.locator('#health').textContent()).startsWith(PAIRD_HOST), 'the header names the host');

  log('a name is required: the form does not say a blank one is taken');
  check(!/blank/.test(await page.getAttribute('#create [name=name]', 'placeholder')),
    'the name field does not promise that the kernel picks a name (POST /ports requires one)');
  await page.click('#create button[type=submit]');
  await page.locator('#create .field-error[data-field="name"]', { hasText: '422: is required' }).waitFor();
  await page.click('#create .field-error[data-field="name"] button.dismiss');

  log('a bad input: the error stays beside its field');
  await page.fill('#create [name=name]', 'bad name!');
  await page.click('#create button[type=submit]');
  const nameErr = page.locator('#create .field-error[data-field="name"]');
  await nameErr.filter({ hasText: '422' }).waitFor();
  const seen = portsFetched;
  for (let i = 0; portsFetched < seen + 2; i++) {
    check(i < 100, 'two more refreshes of the ports list');
    await page.waitForResponse((r) => r.url().endsWith('/api/v1/ports'));
  }
  check((await nameErr.textContent()).includes('422'), 'the error is still beside "name" after refreshes');
  await shots('ports-error');

  log('an error beside its field goes when dismissed');
  await page.fill('#create [name=name]', 'br0');
  await page.fill('#create [name=mac]', 'zz');
  await page.click('#create button[type=submit]');
  const macErr = page.locator('#create .field-error[data-field="mac"]');
  await macErr.filter({ hasText: '422' }).waitFor();
  check(await page.locator('#create [name=mac][aria-invalid=true]').count() === 1, 'the MAC field is marked invalid');
  await macErr.locator('button.dismiss').click();
  await macErr.filter({ hasText: '422' }).waitFor({ state: 'detached' });
  check((await macErr.textContent()) === '', 'dismissed');
  await page.fill('#create [name=mac]', '');

  log('a tap made from the form (a double click makes it once)');
  await page.fill('#create [name=name]', 'br0');
  check((await nameErr.textContent()) === '', 'editing the field clears its error');
  await page.fill('#create [name=mtu]', '1400');
  await page.fill('#create [name=addresses]', '198.18.40.1/24');
  await page.dblclick('#create button[type=submit]');
  const row = page.locator('#ports tr[data-port="br0"]');
  await row.waitFor();
  await refreshes(2);
  check((await nameErr.textContent()) === '' && (await page.locator('#create .form-error').textContent()) === '',
    `one POST for a double click, no 409 after the 201: ${await nameErr.textContent()}`);
  await row.locator('td', { hasText: 'up' }).first().waitFor();
  await shell('NEIGH br0');
  await shots('ports');

  log('the keyboard focus stays on a row\'s button across refreshes');
  // The list is rebuilt on every refresh; the focus must not fall to the
  // body between a Tab and an Enter.
  await row.locator('button', { hasText: 'Delete' }).focus();
  await refreshes(2);
  check(await page.evaluate(() => document.activeElement.matches('#ports tr[data-port="br0"] button')),
    `the focus stayed on br0's Delete: ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 60))}`);

  log('the keyboard reaches the port page: Tab to the port\'s link, Enter');
  await page.locator('body').focus();
  for (let i = 0; ; i++) {
    check(i < 40, 'Tab reaches the link of br0');
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.matches('#ports tr[data-port="br0"] a'))) break;
  }
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/ports\/br0$/);
  await page.waitForFunction((h) => document.title === `br0 · paird — ${h}`, PAIRD_HOST);

  log('a capture binding on UDP port 5353 from the port page');
  await page.locator('#bind').waitFor();
  await page.selectOption('#bind [name=match]', 'udp_port');
  await page.fill('#bind [name="match.udp_port"]', '5353');
  await page.selectOption('#bind [name=handler]', 'capture');
  await page.dblclick('#bind button[type=submit]');
  await page.locator('#bindings tr[data-binding]').first().waitFor();
  await refreshes(2);
  const made = (await apiGet('/ports/br0/bindings')).bindings.length;
  check(made === 1 && (await page.locator('#bindings tr[data-binding]').count()) === 1,
    `a double click on "Add binding" made one binding, not ${made}`);
  await page.locator('#bindings tr[data-binding] button', { hasText: 'Remove' }).focus();
  for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.url().endsWith('/api/v1/ports/br0/bindings'));
  await refreshes(1);
  check(await page.evaluate(() => document.activeElement.matches('#bindings tr[data-binding] button')),
    `the focus stayed on the binding's Remove: ${await page.evaluate(() => document.activeElement.outerHTML.slice(0, 60))}`);
  const rxFrames = async () => Number(await page.locator('#counters tr', { hasText: 'rx frames' }).locator('td').textContent());
  const before = await rxFrames();

  log('datagrams from a kernel socket show live, counters rise without a reload');
  await shell('SEND 5353 3 hello paird');
  await capRows.nth(2).waitFor();
  const first = capRows.first();
  const cells = await first.locator('td').allTextContents();
  check(cells[3] === '198.18.40.1' && cells[4] === '198.18.40.2', `addresses decoded: ${cells}`);
  check(cells[5] === 'UDP 40000 → 5353', `UDP ports decoded: ${cells[5]}`);
  check(cells[7] === 'hello paird', `payload shown: ${cells[7]}`);
  check(await page.locator('#capture-note').textContent() === '', 'no note: the ring is the first one');
  await page.waitForFunction((b) => {
    const tr = [...document.querySelectorAll('#counters tr')].find((t) => t.textContent.startsWith('rx frames'));
    return tr && Number(tr.querySelector('td').textContent) >= b + 3;
  }, before);
  await page.locator('#bindings tr[data-binding] td.num', { hasText: /^[3-9]$/ }).first().waitFor();
  check(await page.evaluate(() => window.noReload === true), 'no reload happened');
  await first.click();
  const detail = page.locator('#capture-detail');
  await detail.locator('td', { hasText: 'dst_port' }).waitFor();
  check((await detail.textContent()).includes('5353'), 'the decoded headers name port 5353');
  check(ascii(await detail.locator('pre.hex').textContent()).includes('hello paird'), 'the hex/ASCII dump');

  log('an HTML payload shows as text');
  const xss = '<img src=x onerror=alert(1)>';
  await shell(`SEND 5353 1 ${xss}`);
  await page.locator('#capture-list td.payload', { hasText: xss }).waitFor();
  check(await page.locator('#capture-list img, #view img').count() === 0, 'no img element was made');
  await capRows.nth(3).click();
  check(ascii(await detail.locator('pre.hex').textContent()).includes(xss), 'the dump shows it');
  await shots('port');

  log('the pcap downloads through the page (bearer token) and tshark reads it');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#captures .dl-pcap')]);
  const pcap = join(DL, 'dashboard.pcap');
  await dl.saveAs(pcap);
  await shell(`TSHARK ${pcap}`);
  const ts = readFileSync(join(DL, 'tshark.out'), 'utf8').trim().split('\n');
  const hello = Buffer.from('hello paird').toString('hex');
  check(ts.length === 4, `4 frames in the pcap: ${ts}`);
  check(ts.filter((l) => l === `5353\t${hello}`).length === 3, `tshark decodes the datagrams: ${ts}`);
  const ng = await download('#captures .dl-pcapng', 'dashboard.pcapng');
  check(ng.subarray(0, 4).toString('hex') === PCAPNG_SHB && ng.includes(Buffer.from('hello paird')), 'the pcapng download');

  log('the capture list: pause holds frames back until resume');
  await page.selectOption('#bind [name=match]', 'udp_port');
  await page.fill('#bind [name="match.udp_port"]', '5354');
  await page.selectOption('#bind [name=handler]', 'capture');
  await page.click('#bind button[type=submit]');
  const row5354 = page.locator('#bindings tr[data-binding]', { hasText: 'udp 5354' });
  await row5354.waitFor();
  const id5354 = await row5354.getAttribute('data-binding');
  await page.locator(`#captures select[name=capture-filter] option[value="${id5354}"]`).waitFor({ state: 'attached' });
  await page.click('#captures button.pause');
  await shell('SEND 5354 2 while paused');
  await row5354.locator('td.num', { hasText: /^2$/ }).first().waitFor();
  const shownWhilePaused = await page.locator('#capture-list td.payload', { hasText: 'while paused' }).count();
  check(shownWhilePaused === 0, 'no frame shows while paused');
  await page.click('#captures button.pause');
  await page.locator('#capture-list td.payload', { hasText: 'while paused' }).nth(1).waitFor();

  log('the capture list: filter by binding, clear');
  await page.selectOption('#captures select[name=capture-filter]', id5354);
  const bindingsShown = await capRows.evaluateAll((rs) => rs.map((r) => r.dataset.binding));
  check(bindingsShown.length === 2 && bindingsShown.every((b) => b === id5354), `only binding ${id5354}: ${bindingsShown}`);
  await page.selectOption('#captures select[name=capture-filter]', '');
  check(await capRows.count() === 6, `all 6 frames again: ${await capRows.count()}`);
  await page.click('#captures button.clear');
  check(await capRows.count() === 0, 'cleared');
  // Live: the list's long poll answers as the frame is captured (about a
  // second is what the issue asks; the time is logged, and the bound of
  // 5 s leaves room for a loaded machine).
  const sent = Date.now();
  await shell('SEND 5353 1 after clear');
  await page.locator('#capture-list td.payload', { hasText: 'after clear' }).waitFor({ timeout: 5000 });
  log(`a captured frame showed ${Date.now() - sent} ms after it was sent`);
  check(await capRows.count() === 1, 'a new frame shows after a clear');
  await capRows.first().focus();
  await page.keyboard.press('Enter');
  await page.locator('#capture-list tbody tr.selected').waitFor();
  check(ascii(await detail.locator('pre.hex').textContent()).includes('after clear'), 'a frame picked with the keyboard');

  log('where frames went, and the edit form');
  // 7 datagrams to the capture bindings so far, and no other traffic.
  await page.waitForFunction(() => [...document.querySelectorAll('#breakdown .blabel')]
    .some((l) => l.textContent === 'matched: 7'));
  await page.fill('#edit [name=mtu]', '1300');
  await page.click('#edit button[type=submit]');
  await kernelCell('mtu').filter({ hasText: /^1300$/ }).waitFor();
  await page.check('#edit [name=strict]');
  await page.click('#edit button[type=submit]');
  await linkCell('strict', 0).filter({ hasText: /^true$/ }).waitFor();
  await shell('SETMTU br0 1350');
  await page.waitForFunction(() => document.querySelector('#edit [name=mtu]').value === '1350');
  check(await page.isChecked('#edit [name=strict]'), 'the refilled form keeps strict');

  log('a frame sent from the page; a bad address\'s error beside its field');
  const txFrames = async () => Number(await page.locator('#counters tr', { hasText: 'tx frames' }).locator('td').textContent());
  const txBefore = await txFrames();
  await page.fill('#transmit [name="udp.src"]', 'nope');
  await page.fill('#transmit [name="udp.dst"]', '198.18.40.1');
  await page.fill('#transmit [name="udp.dst_port"]', '9');
  await page.fill('#transmit [name="udp.payload"]', 'from the page');
  await page.click('#transmit button[type=submit]');
  await page.locator('#transmit .field-error[data-field="udp.src"]', { hasText: '422' }).waitFor();
  await page.fill('#transmit [name="udp.src"]', '198.18.40.2');
  const txApi = async () => (await apiGet('/ports/br0')).counters.tx_frames;
  const txApiBefore = await txApi();
  await page.dblclick('#transmit button[type=submit]');
  await page.locator('#transmit-result p', { hasText: /^Wrote [0-9]+ bytes:$/ }).waitFor();
  await refreshes(1);
  check(await txApi() === txApiBefore + 1, `a double click on "Send" sent one frame: ${txApiBefore} -> ${await txApi()}`);
  check(ascii(await page.locator('#transmit-result pre.hex').textContent()).includes('from the page'), 'the frame written');
  await page.locator('#send').scrollIntoViewIfNeeded();
  await shots('port-send');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shots('port-top');
  await page.waitForFunction((b) => {
    const tr = [...document.querySelectorAll('#counters tr')].find((t) => t.textContent.startsWith('tx frames'));
    return tr && Number(tr.querySelector('td').textContent) > b;
  }, txBefore);

  log('a port made with curl shows in the forward form\'s targets, no reload');
  await page.selectOption('#bind [name=match]', 'udp_port');
  await page.fill('#bind [name="match.udp_port"]', '7000');
  await page.selectOption('#bind [name=handler]', 'forward');
  const targets = page.locator('#bind select[name="options.port"]');
  const none = (await targets.locator('option').allTextContents()).join();
  check(none === '(no other tap port)', `no target yet: ${none}`);
  await shell('MKPORT br1');
  await targets.locator('option', { hasText: /^br1$/ }).waitFor({ state: 'attached' });
  check(await targets.inputValue() === 'br1', 'br1 is offered');
  await page.click('#bind button[type=submit]');
  await page.locator('#bindings tr[data-binding]', { hasText: 'forward' }).waitFor();

  log('the network view: the forward\'s live rate while datagrams flow, 0 after');
  await page.click('header nav a[href="#/network"]');
  await page.waitForFunction((h) => document.title === `network · paird — ${h}`, PAIRD_HOST);
  const link = page.locator('#links li[data-link^="br0/"]');
  await link.waitFor();
  await shell('FLOW 7000 150');
  await link.locator('.flow', { hasText: /^[1-9][0-9]*\.[0-9] f\/s, [1-9]/ }).waitFor();
  await page.locator('#network g.link text', { hasText: /^[1-9][0-9]*\.[0-9] f\/s/ }).waitFor();
  await shots('network');
  await page.locator('#network a[aria-label="port br0"]').focus();
  await refreshes(2);
  await page.waitForResponse((r) => r.url().endsWith('/bindings'));
  check(await page.evaluate(() => document.activeElement.matches('#network a[aria-label="port br0"]')),
    'the focus stayed on br0\'s node in the network view');
  const all = await download('#view .dl-all', 'all.pcapng');
  check(all.subarray(0, 4).toString('hex') === PCAPNG_SHB && all.includes(Buffer.from('br1')), 'every port in one pcapng');
  await shell('FLOWWAIT');
  await link.locator('.flow', { hasText: /^0\.0 f\/s, 0 B\/s$/ }).waitFor();
  const total = await link.textContent();
  check(/; 150 forwarded/.test(total), `the total stays beside the rate: ${total}`);

  log('drift and gone, with their reasons, in the ports table');
  await page.click('header nav a[href="#/"]');
  await row.waitFor();
  await shell('LINK set dev br1 mtu 1280');
  await stateCell('br1').filter({ hasText: 'drift: mtu' }).waitFor();
  check(await stateCell('br1').evaluate((td) => td.classList.contains('drift')), 'drift is marked');
  await shell('LINK del dev br1');
  await stateCell('br1').filter({ hasText: /^gone/ }).waitFor();
  await shots('ports-gone');
  await page.locator('#ports tr[data-port="br1"] button', { hasText: 'Delete' }).click();
  await page.locator('#ports tr[data-port="br1"]').waitFor({ state: 'detached' });

  log('paird stops: the stale mark; it restarts: recovery, and the capture list follows the new ring');
  await row.locator('a').click();
  await kernelCell('mtu').filter({ hasText: /^1350$/ }).waitFor();
  log('a binding removed');
  const fwd = page.locator('#bindings tr[data-binding]', { hasText: 'forward' });
  await fwd.locator('button', { hasText: 'Remove' }).click();
  await fwd.waitFor({ state: 'detached' });
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await shell('STOP');
  await page.locator('#stale').waitFor({ state: 'visible' });
  const inView = () => page.locator('#stale').evaluate((e) => {
    const r = e.getBoundingClientRect();
    return window.scrollY > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
  });
  check(await inView(), 'the stale mark shows on a page scrolled down');
  await shots('stale');
  await page.setViewportSize({ width: 420, height: 800 });
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  check(await inView(), 'the stale mark shows on a narrow page scrolled down');
  await page.setViewportSize({ width: 1280, height: 800 });
  await shell('START');
  await page.locator('#stale').waitFor({ state: 'hidden', timeout: 20000 });
  check(await page.locator('#auth').isHidden(), 'no token asked again');
  await shell('NEIGH br0');
  await shell('SEND 5353 2 after restart');
  await page.locator('#capture-list td.payload', { hasText: 'after restart' }).nth(1).waitFor({ timeout: 20000 });
  check((await page.locator('#capture-note').textContent()).includes('started over'), 'the list says the ring started over');

  log('a deep link in a new tab: the token, then that port\'s page');
  const tab = await ctx.newPage();
  tab.setDefaultTimeout(15000);
  await tab.goto(`${BASE}/#/ports/br0`);
  await tab.locator('#auth').waitFor({ state: 'visible' });
  await tab.fill('#token', TOKEN);
  await tab.press('#token', 'Enter');
  await tab.locator('#view h2', { hasText: /^Port br0 — / }).waitFor();
  await tab.locator('#capture-list td.payload', { hasText: 'after restart' }).first().waitFor();
  await tab.close();

  log('a deep link with a malformed escape: the page still works, no such port');
  const bad = await ctx.newPage();
  bad.setDefaultTimeout(15000);
  const badErrors = [];
  bad.on('pageerror', (e) => badErrors.push(String(e)));
  await bad.goto(`${BASE}/#/ports/%E0%A4%A`);
  await bad.locator('#auth').waitFor({ state: 'visible' });
  await bad.fill('#token', TOKEN);
  await bad.press('#token', 'Enter');
  await bad.locator('#view p.error', { hasText: 'No port %E0%A4%A.' }).waitFor();
  await bad.click('header nav a[href="#/"]');
  await bad.locator('#ports tr[data-port="br0"]').waitFor();
  check(badErrors.length === 0, `no script errors: ${badErrors}`);
  await bad.close();

  log('60 KB frames arriving: the page keeps answering, the list keeps a bounded amount');
  await shell('SETMTU br0 65000');
  await page.waitForFunction(() => document.querySelector('#edit [name=mtu]').value === '65000');
  await page.evaluate(() => {
    window.maxLag = 0;
    let last = performance.now();
    window.lagTimer = setInterval(() => {
      const now = performance.now();
      window.maxLag = Math.max(window.maxLag, now - last - 50);
      last = now;
    }, 50);
  });
  await shell('BIG 5353 60000 120');
  await page.locator('#capture-list td.payload', { hasText: /^00119/ }).waitFor({ timeout: 30000 });
  const bigRows = await capRows.count();
  const lag = await page.evaluate(() => { clearInterval(window.lagTimer); return Math.round(window.maxLag); });
  log(`the page was busy for at most ${lag} ms at a time; ${bigRows} frames in the list`);
  // 120 frames of 60 KB are ~29 M hex characters: the list keeps 16 M.
  check(bigRows <= 75, `the list keeps a bounded amount of frames' bytes, not all ${bigRows}`);
  check(lag < 1000, `the page answered within 1 s while 60 KB frames came (${lag} ms)`);
  check((await page.locator('#capture-list td.payload').last().textContent()).length <= 96, 'the payload column shows the first bytes');

  log('the port deleted (after a confirmation)');
  await page.click('header nav a[href="#/"]');
  await row.locator('button', { hasText: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  await page.locator('#empty').waitFor({ state: 'visible' });
  check(confirms.length === 2 && confirms.every((m) => /^Delete port br[01]\?$/.test(m)), `asked before each delete: ${confirms}`);
  check(dialogs.length === 0, `no dialog fired: ${dialogs}`);
  check(pageErrors.length === 0, `no script errors: ${pageErrors}`);
  check(await page.evaluate(() => window.noReload === true), 'no reload happened');

  log('the one-time login URL: a session in this origin\'s storage, no cookie, no id left in the address bar');
  await shell('GENTOKEN'); // paird again, its token generated: it logs a login URL
  const loginUrl = readFileSync(join(DL, 'login-url'), 'utf8').trim();
  check(loginUrl.startsWith(`${BASE}/login?code=`), `a login URL: ${loginUrl}`);
  const lp = await ctx.newPage();
  lp.setDefaultTimeout(15000);
  const lpErrors = [];
  lp.on('pageerror', (e) => lpErrors.push(String(e)));
  const auths = [];
  lp.on('request', (r) => { if (r.url().includes('/api/')) auths.push(r.headers().authorization || ''); });
  await lp.goto(loginUrl);
  // The title comes from GET /api/v1/info, which only an authenticated page gets.
  await lp.waitForFunction((h) => document.title === `paird — ${h}`, PAIRD_HOST);
  check(lp.url() === `${BASE}/`, `the session id left the address bar: ${lp.url()}`);
  const sid = await lp.evaluate(() => localStorage.getItem('paird-session'));
  check(/^[0-9a-f]{64}$/.test(sid || ''), `a session id kept: ${sid}`);
  check((await ctx.cookies()).length === 0, `no cookie: ${JSON.stringify(await ctx.cookies())}`);
  check(auths.length > 0 && auths.every((a) => a === `Bearer ${sid}`), `every API request sent the session: ${auths}`);
  check(await lp.locator('#auth').isHidden(), 'no token asked for');
  await lp.reload();
  await lp.waitForFunction((h) => document.title === `paird — ${h}`, PAIRD_HOST);
  check(await lp.locator('#auth').isHidden(), 'a reload keeps the session');

  log('the session ends (paird restarted); a login URL opened in another tab: this one carries on, live');
  const refused = lp.waitForResponse((r) => r.url().endsWith('/api/v1/events') && r.status() === 401, { timeout: 30000 });
  await shell('GENTOKEN');
  await lp.locator('#auth').waitFor({ state: 'visible' });
  await refused; // the stream asked with the old session, and was refused
  const loginUrl2 = readFileSync(join(DL, 'login-url'), 'utf8').trim();
  const lp2 = await ctx.newPage();
  await lp2.goto(loginUrl2);
  await lp2.waitForFunction((h) => document.title === `paird — ${h}`, PAIRD_HOST);
  const sid2 = await lp2.evaluate(() => localStorage.getItem('paird-session'));
  await lp2.close();
  check(sid2 && sid2 !== sid, 'a new session');
  // The event stream, refused when the old session ended, starts again with
  // the new one (not only the 2 s poll).
  await lp.waitForRequest((r) => r.url().endsWith('/api/v1/events') && r.headers().authorization === `Bearer ${sid2}`,
    { timeout: 20000 });
  await lp.locator('#auth').waitFor({ state: 'hidden' });
  const again = await lp.goto(loginUrl);
  check(again.status() === 403, `the code works once: ${again.status()}`);
  check(lpErrors.length === 0, `no script errors: ${lpErrors}`);
  await lp.close();
} catch (e) {
  failed = true;
  log(`FAIL: ${e.stack || e}`);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failed) process.exit(1);
process.stdout.write('PASS\n', () => process.exit(0));
