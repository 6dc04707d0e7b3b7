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

const { BASE, TOKEN, SHOTS, DL } = process.env;
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
  page.on('dialog', async (d) => {
    if (d.type() === 'confirm') await d.accept();
    else { dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss(); }
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  let portsFetched = 0;
  page.on('response', (r) => { if (r.url().endsWith('/api/v1/ports') && r.status() === 200) portsFetched++; });
  const shots = async (name) => {
    for (const [w, h] of [[1280, 800], [420, 800]]) {
      await page.setViewportSize({ width: w, height: h });
      await page.screenshot({ path: join(SHOTS, `${name}-${w}x${h}.png`), fullPage: false });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
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

  log('a tap made from the form');
  await page.fill('#create [name=name]', 'br0');
  check((await nameErr.textContent()) === '', 'editing the field clears its error');
  await page.fill('#create [name=mtu]', '1400');
  await page.fill('#create [name=addresses]', '198.18.40.1/24');
  await page.click('#create button[type=submit]');
  const row = page.locator('#ports tr[data-port="br0"]');
  await row.waitFor();
  await row.locator('td', { hasText: 'up' }).first().waitFor();
  await shell('NEIGH br0');
  await shots('ports');

  log('a capture binding on UDP port 5353 from the port page');
  await row.locator('a').click();
  await page.waitForURL(/#\/ports\/br0$/);
  await page.locator('#bind').waitFor();
  await page.selectOption('#bind [name=match]', 'udp_port');
  await page.fill('#bind [name="match.udp_port"]', '5353');
  await page.selectOption('#bind [name=handler]', 'capture');
  await page.click('#bind button[type=submit]');
  await page.locator('#bindings tr[data-binding]').first().waitFor();
  const rxFrames = async () => Number(await page.locator('#counters tr', { hasText: 'rx frames' }).locator('td').textContent());
  const before = await rxFrames();

  log('datagrams from a kernel socket show live, counters rise without a reload');
  await shell('SEND 5353 3 hello paird');
  await page.locator('#capture-list tbody tr').nth(2).waitFor();
  const first = page.locator('#capture-list tbody tr').first();
  const cells = await first.locator('td').allTextContents();
  check(cells[3] === '198.18.40.1' && cells[4] === '198.18.40.2', `addresses decoded: ${cells}`);
  check(cells[5] === 'UDP 40000 → 5353', `UDP ports decoded: ${cells[5]}`);
  check(cells[7] === 'hello paird', `payload shown: ${cells[7]}`);
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
  await page.locator('#capture-list tbody tr').nth(3).click();
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

  log('the network view');
  await page.click('header nav a[href="#/network"]');
  await page.locator('#network circle').first().waitFor();
  await shots('network');

  log('paird stops: the stale mark; it restarts: recovery');
  await page.click('header nav a[href="#/"]');
  await row.waitFor();
  await shell('STOP');
  await page.locator('#stale').waitFor({ state: 'visible' });
  await shots('stale');
  await shell('START');
  await page.locator('#stale').waitFor({ state: 'hidden', timeout: 20000 });
  await row.waitFor();
  check(await page.locator('#auth').isHidden(), 'no token asked again');

  log('the port deleted (after a confirmation)');
  await row.locator('button', { hasText: 'Delete' }).click();
  await row.waitFor({ state: 'detached' });
  await page.locator('#empty').waitFor({ state: 'visible' });
  check(dialogs.length === 0, `no dialog fired: ${dialogs}`);
  check(pageErrors.length === 0, `no script errors: ${pageErrors}`);
  check(await page.evaluate(() => window.noReload === true), 'no reload happened');
} catch (e) {
  failed = true;
  log(`FAIL: ${e.stack || e}`);
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failed) process.exit(1);
process.stdout.write('PASS\n', () => process.exit(0));
