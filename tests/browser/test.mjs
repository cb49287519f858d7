// test.mjs: the web UI in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): log in with a token, find a phone, schedule an
// install, let phonesim enroll and watch the status turn to "Upgrade
// Success" without reloading, try a guarded trust removal and see it
// refused, regenerate nothing (read the CAPF page), log out. Screenshots of
// the main pages go to $SCREENSHOT_DIR.
//
// Run by tests/browser/browser.sh, which starts the daemon and passes:
//   BASE_URL, ADMIN_TOKEN, READ_TOKEN, PHONE, PHONESIM, PHONE_DIR, CAPF_ADDR,
//   SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  if (!process.env[name]) throw new Error(`${name} must be set`);
  return process.env[name];
};
const BASE = env('BASE_URL');
const PHONE = env('PHONE');
const SHOTS = env('SCREENSHOT_DIR');

let passed = 0;
let failed = 0;
function ok(what) { passed++; console.log(`ok - ${what}`); }
function notOk(what, why) { failed++; console.log(`not ok - ${what}${why ? ` (${why})` : ''}`); }

async function check(what, fn) {
  try {
    await fn();
    ok(what);
  } catch (e) {
    notOk(what, String(e.message || e).split('\n')[0]);
  }
}

function runPhonesim() {
  return new Promise((resolve) => {
    const p = spawn(env('PHONESIM'), ['capf', env('PHONE_DIR'), env('CAPF_ADDR'), '--timeout', '30'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out }));
  });
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'opencapf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  try {
    await steps(page, context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  // 401s, 409s, and 404s the tests provoke on purpose show up as failed loads.
  const real = consoleErrors.filter((t) => !/status of (401|404|409)/.test(t));
  if (real.length) notOk('no JavaScript errors in the console', real.join(' | '));
  else ok('no JavaScript errors in the console');
}

async function steps(page, context) {
  await check('the UI sends an unauthenticated visitor to the login page', async () => {
    await page.goto(BASE + '/');
    await page.waitForURL('**/login.html');
  });
  await shot(page, '01-login');

  await check('a wrong token is refused on the login page', async () => {
    await page.fill('#token', 'ocapf_1_not-the-right-token-at-all-0123456789abcdef');
    await page.click('#login-button');
    await page.locator('#login-error').filter({ hasText: 'not valid' }).waitFor();
  });

  await check('logging in with an admin token opens the dashboard', async () => {
    await page.fill('#token', env('ADMIN_TOKEN'));
    await page.click('#login-button');
    await page.waitForURL(BASE + '/');
    await page.locator('#who').filter({ hasText: 'admin' }).waitFor();
  });

  await check('the session cookie is HttpOnly and SameSite=Strict', async () => {
    const c = (await context.cookies()).find((x) => x.name === 'opencapf_session');
    if (!c) throw new Error('no session cookie');
    if (!c.httpOnly) throw new Error('not HttpOnly');
    if (c.sameSite !== 'Strict') throw new Error(`SameSite=${c.sameSite}`);
    const seen = await page.evaluate(() => document.cookie);
    if (seen.includes('opencapf_session')) throw new Error('the page script can read the cookie');
  });

  await check('the dashboard shows phones by LSC status and the CAPF days left', async () => {
    await page.locator('#lsc-cards .card').first().waitFor();
    await page.locator('#capf-days').filter({ hasText: 'days left' }).waitFor();
  });
  await shot(page, '02-dashboard');

  await check('the phone list finds the phone by a name pattern', async () => {
    await page.click('header nav a[href="/phones.html"]');
    await page.waitForURL('**/phones.html');
    await page.fill('#f-name', PHONE.slice(0, 9) + '*');
    await page.click('#search-button');
    await page.locator(`#phone-rows tr[data-name="${PHONE}"]`).waitFor();
  });
  await shot(page, '03-phones');

  await check('the phone page shows the CAPF Information section', async () => {
    await page.click(`#phone-rows a:text("${PHONE}")`);
    await page.waitForURL(`**/phone.html?name=${PHONE}`);
    await page.locator('#info-operation').filter({ hasText: 'No Pending Operation' }).waitFor();
    await page.locator('#info-auth').filter({ hasText: 'By Null String' }).waitFor();
  });

  await check('scheduling Install/Upgrade shows it pending', async () => {
    await page.selectOption('#op-select', 'install');
    await page.click('#op-submit');
    await page.locator('#info-operation').filter({ hasText: 'Install/Upgrade' }).waitFor();
    await page.locator('#info-status').filter({ hasText: 'Pending' }).waitFor();
  });
  await shot(page, '04-phone-pending');

  const sim = await runPhonesim();
  if (sim.code === 0 && /LSC: Installed/.test(sim.out)) ok('phonesim enrolled over CAPF');
  else notOk('phonesim enrolled over CAPF', `exit ${sim.code}: ${sim.out.trim().split('\n').slice(-3).join(' / ')}`);

  await check('the status turns to Upgrade Success without a reload', async () => {
    await page.locator('#info-status').filter({ hasText: 'Upgrade Success' }).waitFor({ timeout: 20000 });
    await page.locator('#info-lsc').filter({ hasText: 'Installed' }).waitFor();
    await page.locator('#history tr').filter({ hasText: 'Upgrade Success' }).first().waitFor();
  });
  await shot(page, '05-phone-enrolled');

  await check('the trust store page lists the stores', async () => {
    await page.click('header nav a[href="/trust.html"]');
    await page.locator('button[data-store="CAPF-trust"]').waitFor();
  });

  await check('removing the CAPF certificate that anchors the phone is refused', async () => {
    await page.click('button[data-store="CAPF-trust"]');
    await page.locator('#certs tr').first().waitFor();
    const row = page.locator('#certs tr').filter({ hasText: 'current CAPF' }).first();
    await row.locator('button.remove').click();
    await page.locator('#error').filter({ hasText: /current CAPF certificate|still anchors/ }).waitFor();
    await page.locator('#force-remove').waitFor();
  });
  await shot(page, '06-trust-refused');

  await check('the refused certificate is still there', async () => {
    await page.click('button[data-store="CAPF-trust"]');
    await page.locator('#certs tr').filter({ hasText: 'current CAPF' }).first().waitFor();
  });

  await check('the CAPF certificate page shows days left and the rollover status', async () => {
    await page.click('header nav a[href="/capf.html"]');
    await page.locator('#capf-days-left').waitFor();
    await page.locator('#rollover').filter({ hasText: /rollover|retired|previous/i }).waitFor();
  });
  await shot(page, '07-capf');

  await check('the dashboard counts the installed LSC', async () => {
    await page.click('header nav a[href="/"]');
    await page.locator('#lsc-cards .card').filter({ hasText: 'LSC installed' }).locator('.n').filter({ hasText: /^[1-9]/ }).waitFor();
  });
  await shot(page, '08-dashboard-after');

  await check('logging out ends the session', async () => {
    await page.click('#logout');
    await page.waitForURL('**/login.html');
    const r = await page.request.get(BASE + '/api/v1/session');
    if (r.status() !== 401) throw new Error(`session still answers ${r.status()}`);
  });

  await check('a read-only token sees no change controls', async () => {
    await page.fill('#token', env('READ_TOKEN'));
    await page.click('#login-button');
    await page.waitForURL(BASE + '/');
    await page.goto(`${BASE}/phone.html?name=${PHONE}`);
    await page.locator('#info-status').filter({ hasText: 'Upgrade Success' }).waitFor();
    if (await page.locator('#op-submit').isVisible()) throw new Error('the schedule button is visible');
  });
  await shot(page, '09-phone-read-only');
}

main().catch((e) => { notOk('browser test ran to the end', String(e.stack || e)); }).finally(() => {
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
});
