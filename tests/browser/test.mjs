// test.mjs: the web UI in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core): log in with a token, find a phone, schedule an
// install, let phonesim enroll and watch the status turn to "Upgrade
// Success" without reloading; the defects of issue 21 (a past deadline is a
// warning, errors next to their form, an unknown phone, ?status=Failed,
// dashboard cards as links); the pages added for it (audit log, ITL/CTL/TVS
// records, tokens, diagnose, removing a phone, the campaign view) with a
// bulk action on a filter of 60 phones and the campaign view while
// `phonesim load` enrolls them; a guarded trust removal refused; log out; a
// read-only token. Screenshots of the pages at 1400 and 800 px wide go to
// $SCREENSHOT_DIR (each path printed as "# screenshot PATH").
//
// Run by tests/browser/browser.sh, which starts the daemon and passes:
//   BASE_URL, ADMIN_TOKEN, READ_TOKEN, PHONE, PHONESIM, PHONE_DIR, CAPF_ADDR,
//   P2, P2_DIR (a phone made to fail), CAPF_PEM, LOAD_FIRST, LOAD_COUNT (the
//   load's phones, model 7811), TVS_ADDR, TVS_PEM, SCREENSHOT_DIR,
//   CHROMIUM (default /usr/bin/chromium)
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
const P2 = env('P2');
const SHOTS = env('SCREENSHOT_DIR');
const LOAD_COUNT = Number(env('LOAD_COUNT'));
const UNKNOWN = 'SEP0000DEADBEEF';

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

function run(args) {
  return new Promise((resolve) => {
    const p = spawn(env('PHONESIM'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('close', (code) => resolve({ code, out }));
  });
}

const runPhonesim = (dir) => run(['capf', dir, env('CAPF_ADDR'), '--timeout', '30']);

// Both widths of every picture: the layout must hold at 800 px too.
async function shot(page, name) {
  for (const width of [1400, 800]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(150);
    const path = join(SHOTS, `${name}-${width}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`# screenshot ${path}`);
  }
  await page.setViewportSize({ width: 1400, height: 900 });
}

async function apiGet(page, path) {
  const r = await page.request.get(BASE + path);
  if (!r.ok()) throw new Error(`GET ${path}: ${r.status()}`);
  return r.json();
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'opencapf-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('dialog', (d) => d.accept());
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  try {
    await steps(page, context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  // 400s, 401s, 409s and 404s the tests provoke on purpose show up as failed loads.
  const real = consoleErrors.filter((t) => !/status of (400|401|404|409)/.test(t));
  if (real.length) notOk('no JavaScript errors in the console', real.join(' | '));
  else ok('no JavaScript errors in the console');
}

async function steps(page, context) {
  await loginSteps(page, context);
  await enrollSteps(page);
  await defectSteps(page);
  await phonePageSteps(page);
  await campaignSteps(page);
  await revokeSteps(page);
  await newPageSteps(page);
  await trustAndCapfSteps(page);
  await readOnlySteps(page);
}

async function loginSteps(page, context) {
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

  await check('the dashboard shows phones by LSC status, the CAPF days left and its pictures', async () => {
    await page.locator('#lsc-cards .card').first().waitFor();
    await page.locator('#capf-days').filter({ hasText: 'days left' }).waitFor();
    await page.locator('#expiry-chart svg.chart rect.bar').first().waitFor({ state: 'attached' });
    await page.locator('#rates-chart svg.chart polyline').first().waitFor({ state: 'attached' });
  });
  await shot(page, '02-dashboard');
}

async function enrollSteps(page) {
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

  await check('scheduling Install/Upgrade shows it pending, as a success next to the form', async () => {
    await page.selectOption('#op-select', 'install');
    await page.click('#op-submit');
    await page.locator('#info-operation').filter({ hasText: 'Install/Upgrade' }).waitFor();
    await page.locator('#info-status').filter({ hasText: 'Pending' }).waitFor();
    await page.locator('#op-form + .form-msg.success').waitFor();
  });
  await shot(page, '04-phone-pending');

  const sim = await runPhonesim(env('PHONE_DIR'));
  if (sim.code === 0 && /LSC: Installed/.test(sim.out)) ok('phonesim enrolled over CAPF');
  else notOk('phonesim enrolled over CAPF', `exit ${sim.code}: ${sim.out.trim().split('\n').slice(-3).join(' / ')}`);

  await check('the status turns to Upgrade Success without a reload', async () => {
    await page.locator('#info-status').filter({ hasText: 'Upgrade Success' }).waitFor({ timeout: 20000 });
    await page.locator('#info-lsc').filter({ hasText: 'Installed' }).waitFor();
    await page.locator('#info-provisioning').filter({ hasText: 'no template' }).waitFor();
    await page.locator('#history tr').filter({ hasText: 'Upgrade Success' }).first().waitFor();
  });
  await shot(page, '05-phone-enrolled');
}

// Issue 21, defect 5: each check failed before the fix.
async function defectSteps(page) {
  await page.goto(`${BASE}/phone.html?name=${P2}`);
  await page.locator('#info-operation').waitFor();

  await check('defect 5: a past deadline is a warning (not a green success banner), next to the form', async () => {
    await page.selectOption('#op-select', 'install');
    await page.fill('#op-by', '2020-01-01 00:00');
    await page.click('#op-submit');
    const box = page.locator('#op-form + .form-msg');
    await box.filter({ hasText: 'already past' }).waitFor();
    const cls = await box.getAttribute('class');
    if (!/\bwarning\b/.test(cls) || /\bsuccess\b/.test(cls)) throw new Error(`the message's class is "${cls}"`);
  });

  await check('defect 5: an error appears next to the form that caused it, in view', async () => {
    await page.setViewportSize({ width: 1400, height: 600 });
    await page.locator('#settings-form').scrollIntoViewIfNeeded();
    await page.selectOption('#s-auth', 'string');
    await page.fill('#s-auth-string', '');
    await page.click('#settings-form button[type=submit]');
    const box = page.locator('#settings-form + .form-msg.error');
    await box.filter({ hasText: 'auth_string' }).waitFor();
    const b = await box.boundingBox();
    const vp = page.viewportSize();
    if (!b || b.y < 0 || b.y + b.height > vp.height) throw new Error(`the error is out of view (${JSON.stringify(b)})`);
    if (await page.locator('#error').isVisible()) throw new Error('the error is (also) in the top banner');
  });
  await shot(page, '06-phone-errors');
  await page.setViewportSize({ width: 1400, height: 900 });

  const sim = await runPhonesim(env('P2_DIR'));
  if (sim.code !== 0) ok('phonesim is refused after the past deadline');
  else notOk('phonesim is refused after the past deadline', 'it enrolled');

  await check('defect 5: phones.html?status=Failed lists only the failed phone', async () => {
    await page.goto(`${BASE}/phones.html?status=Failed`);
    await page.locator(`#phone-rows tr[data-name="${P2}"]`).waitFor();
    const n = await page.locator('#phone-rows tr[data-name]').count();
    if (n !== 1) throw new Error(`${n} rows`);
    if (await page.inputValue('#f-status') !== 'Failed') throw new Error('the filter field is not filled');
  });
  await shot(page, '07-phones-failed');

  await check('a filter from the address with no field of its own (names=) filters too, and is shown', async () => {
    await page.goto(`${BASE}/phones.html?names=${PHONE},SEP00AA11BB2202`);
    await page.locator('#extra-filters').filter({ hasText: 'names=' }).waitFor();
    await page.locator('#page-info').filter({ hasText: 'of 2' }).waitFor();
  });

  await check('defect 5: phone.html?name=<unknown> says the phone does not exist, with no edit forms', async () => {
    await page.goto(`${BASE}/phone.html?name=${UNKNOWN}`);
    await page.locator('#missing-text').filter({ hasText: 'does not exist' }).waitFor();
    for (const id of ['#settings-form', '#op-form', '#remove-button', '#s-rsa'])
      if (await page.locator(id).isVisible()) throw new Error(`${id} is visible`);
  });
  await shot(page, '08-phone-unknown');

  await check('defect 5: dashboard cards are links to the filtered lists', async () => {
    await page.goto(BASE + '/');
    await page.locator('#lsc-cards a.card').filter({ hasText: 'LSC installed' }).click();
    await page.waitForURL('**/phones.html?lsc_status=installed');
    await page.locator(`#phone-rows tr[data-name="${PHONE}"]`).waitFor();
    const n = await page.locator('#phone-rows tr[data-name]').count();
    if (n !== 1) throw new Error(`${n} rows for lsc_status=installed`);
    await page.goto(BASE + '/');
    await page.locator('#op-cards a.card').filter({ hasText: 'failed' }).click();
    await page.waitForURL('**/phones.html?status=Failed');
  });
}

async function phonePageSteps(page) {
  await check('diagnose on the phone page shows what the phone presents and the trust verdicts', async () => {
    await page.goto(`${BASE}/phone.html?name=${PHONE}`);
    await page.click('#diag-button');
    await page.locator('#diag-summary').filter({ hasText: 'Presents: LSC' }).waitFor();
    await page.locator('#diag-out table tr').filter({ hasText: 'CAPF-trust' }).waitFor();
    await page.locator('#diag-findings li').first().waitFor();
  });
  await shot(page, '09-phone-diagnose');

  await check('removing a phone with a pending operation is refused next to the button, then forced', async () => {
    await page.goto(`${BASE}/phone.html?name=${P2}`);
    await page.click('#remove-button');
    await page.locator('#remove-button + .form-msg.error').filter({ hasText: 'pending' }).waitFor();
    await page.click('#remove-force');
    await page.locator('#missing-text').filter({ hasText: 'was removed (forced)' }).waitFor();
    const r = await page.request.get(`${BASE}/api/v1/phones/${P2}`);
    if (r.status() !== 404) throw new Error(`the phone still answers ${r.status()}`);
  });

  await check('removing a phone without an operation', async () => {
    await page.goto(`${BASE}/phone.html?name=SEP00AA11BB2205`);
    await page.click('#remove-button');
    await page.locator('#missing-text').filter({ hasText: 'was removed' }).waitFor();
  });
}

async function campaignSteps(page) {
  await check(`a bulk action on a filter schedules all ${LOAD_COUNT} matching phones, not only one page`, async () => {
    await page.goto(`${BASE}/phones.html?model=7811`);
    await page.locator('#page-info').filter({ hasText: `of ${LOAD_COUNT}` }).waitFor();
    if (await page.locator('#phone-rows tr[data-name]').count() >= LOAD_COUNT) throw new Error('all on one page');
    await page.selectOption('#bulk-op', 'install');
    await page.fill('#bulk-note', 'browser test campaign');
    await page.click('#bulk-all');
    await page.locator('#bulk + .form-msg.success').filter({ hasText: `install scheduled on ${LOAD_COUNT} phones` }).waitFor();
    const d = await apiGet(page, '/api/v1/phones?model=7811&operation=install&limit=1');
    if (d.total !== LOAD_COUNT) throw new Error(`${d.total} phones scheduled`);
  });
  await shot(page, '10-phones-bulk');

  await page.click('#follow-campaign');
  await page.waitForURL('**/campaign.html');
  if (await page.inputValue('#c-since') !== 'last-schedule') notOk('the campaign page starts at the last scheduling');
  const load = run(['load', '--capf', env('CAPF_ADDR'), '--trust', env('CAPF_PEM'), '--first', env('LOAD_FIRST'),
    '--count', String(LOAD_COUNT), '--concurrency', '5', '--keygen-delay', '1', '--threads', '1', '--max-seconds', '90']);
  const tvs = run(['load', '--tvs', env('TVS_ADDR'), '--trust', env('TVS_PEM'), '--verify-cert', env('CAPF_PEM'),
    '--first', env('LOAD_FIRST'), '--count', '10', '--requests', '3', '--concurrency', '5', '--max-seconds', '30']);

  await check('the campaign view shows done, pending, the rate and an estimated end during the load', async () => {
    await page.waitForFunction((n) => {
      const p = document.querySelector('#c-pending');
      return p && Number(p.dataset.n) > 0 && Number(p.dataset.n) < n - 5;
    }, LOAD_COUNT, { timeout: 30000 });
    await page.locator('#campaign-chart polyline[data-series="done"]').waitFor();
    await page.locator('#c-eta').filter({ hasText: /^\d{4}-/ }).waitFor();
    await page.locator('#c-rate').filter({ hasText: /^[1-9]|^0\.[1-9]/ }).waitFor();
  });
  await shot(page, '11-campaign-running');

  const [l, t] = await Promise.all([load, tvs]);
  if (l.code === 0 && new RegExp(`completed=${LOAD_COUNT} failed=0`).test(l.out)) ok(`phonesim load enrolled the ${LOAD_COUNT} phones`);
  else notOk('phonesim load enrolled the phones', `exit ${l.code}: ${l.out.trim().split('\n').slice(-2).join(' / ')}`);
  if (t.code === 0) ok('phonesim sent TVS requests');
  else notOk('phonesim sent TVS requests', `exit ${t.code}: ${t.out.trim().split('\n').slice(-2).join(' / ')}`);

  await check('the campaign ends with nothing pending, every phone done, TVS requests in the rates', async () => {
    await page.waitForFunction((n) => {
      const d = document.querySelector('#c-done'), p = document.querySelector('#c-pending');
      const r = document.querySelector('#c-rates .rates-note');
      return d && p && r && Number(d.dataset.n) >= n && Number(p.dataset.n) === 0 && Number(r.dataset.tvs) > 0;
    }, LOAD_COUNT, { timeout: 30000 });
    await page.locator('#c-eta').filter({ hasText: 'nothing pending' }).waitFor();
  });
  await shot(page, '12-campaign-done');
}

async function revokeSteps(page) {
  const name = env('LOAD_FIRST');
  await check('revoking a phone\'s LSC names the serial next to the form; again, the refusal is there too', async () => {
    await page.goto(`${BASE}/phone.html?name=${name}`);
    await page.selectOption('#revoke-reason', 'superseded');
    await page.click('#revoke-button');
    await page.locator('#revoke-form + .form-msg.success').filter({ hasText: /revoked 1 LSC \(superseded\): [0-9a-f]+/ }).waitFor();
    await page.click('#revoke-button');
    await page.locator('#revoke-form + .form-msg:not(.success)').waitFor();
  });
  await shot(page, '12b-phone-revoked');
}

async function newPageSteps(page) {
  await check('the audit log filters by action and shows before → after in words', async () => {
    await page.click('header nav a[href="/audit.html"]');
    await page.fill('#a-action', 'phone.op');
    await page.fill('#a-object', PHONE);
    await page.click('#audit-search');
    const row = page.locator('#audit-rows tr[data-action="phone.op"]').first();
    await row.locator('.summary').filter({ hasText: 'operation: none → install' }).waitFor();
    if (await page.locator('#audit-rows tr:not([data-action="phone.op"])').count()) throw new Error('other actions listed');
  });
  await shot(page, '13-audit');

  await check('the records page shows the TVS entries, the ITL and the CTL', async () => {
    await page.click('header nav a[href="/records.html"]');
    await page.locator('#tvs-rows tr').filter({ hasText: 'CAPF' }).first().waitFor();
    await page.locator('#itl-state').filter({ hasText: 'verified' }).waitFor();
    await page.locator('#itl-rows tr').filter({ hasText: 'System Administrator Security Token' }).filter({ hasText: 'signed the file' }).waitFor();
    await page.locator('#itl-rows tr').filter({ hasText: 'CAPF' }).waitFor();
    await page.locator('#ctl-rows tr').first().waitFor();
    if (!/Length of CTL file/.test(await page.locator('#ctl-text').textContent())) throw new Error('no CTL text');
  });
  await shot(page, '14-records');

  let made = '';
  await check('the tokens page creates a token, shown once, that works', async () => {
    await page.click('header nav a[href="/tokens.html"]');
    await page.locator('#token-rows tr').first().waitFor();
    await page.selectOption('#t-role', 'read');
    await page.fill('#t-label', 'made in the browser');
    await page.click('#token-create');
    made = await page.locator('#new-token').inputValue();
    if (!/^ocapf_\d+_[A-Za-z0-9_-]{20,}$/.test(made)) throw new Error(`token "${made}"`);
    await page.locator('#token-rows tr').filter({ hasText: 'made in the browser' }).waitFor();
    const r = await page.request.get(BASE + '/api/v1/session', { headers: { Authorization: `Bearer ${made}` } });
    if (r.status() !== 200) throw new Error(`the new token gets ${r.status()}`);
  });
  await shot(page, '15-tokens');

  await check('revoking the token stops it at once', async () => {
    const row = page.locator('#token-rows tr').filter({ hasText: 'made in the browser' });
    await row.locator('button.revoke').click();
    await row.locator('.badge').filter({ hasText: 'revoked' }).waitFor();
    const r = await page.request.get(BASE + '/api/v1/phones', { headers: { Authorization: `Bearer ${made}` } });
    if (r.status() !== 401) throw new Error(`the revoked token gets ${r.status()}`);
  });
}

async function trustAndCapfSteps(page) {
  await check('the trust store page lists the stores', async () => {
    await page.click('header nav a[href="/trust.html"]');
    await page.locator('button[data-store="CAPF-trust"]').waitFor();
  });

  await check('removing the CAPF certificate that anchors the phone is refused, next to the list', async () => {
    await page.click('button[data-store="CAPF-trust"]');
    await page.locator('#certs tr').first().waitFor();
    const row = page.locator('#certs tr').filter({ hasText: 'current CAPF' }).first();
    await row.locator('button.remove').click();
    await page.locator('#certs-table + #trust-error').filter({ hasText: /current CAPF certificate|still anchors/ }).waitFor();
    await page.locator('#force-remove').waitFor();
  });
  await shot(page, '16-trust-refused');

  await check('the refused certificate is still there', async () => {
    await page.click('button[data-store="CAPF-trust"]');
    await page.locator('#certs tr').filter({ hasText: 'current CAPF' }).first().waitFor();
  });

  await check('the CAPF certificate page shows days left and the rollover status', async () => {
    await page.click('header nav a[href="/capf.html"]');
    await page.locator('#capf-days-left').waitFor();
    await page.locator('#rollover').filter({ hasText: /rollover|retired|previous/i }).waitFor();
  });
  await shot(page, '17-capf');

  await check('the dashboard counts the installed LSCs and draws their expiry', async () => {
    await page.click('header nav a[href="/"]');
    await page.locator('#lsc-cards .card').filter({ hasText: 'LSC installed' }).locator('.n')
      .filter({ hasText: String(LOAD_COUNT + 1) }).waitFor();
    // every current LSC is in a month's bar or expires later than the chart
    await page.waitForFunction((n) => {
      const note = document.querySelector('#expiry-note');
      const bars = [...document.querySelectorAll('#expiry-chart rect.bar')].reduce((s, r) => s + Number(r.dataset.value), 0);
      return note && bars + Number(note.dataset.later) === n;
    }, LOAD_COUNT + 1);
  });
  await shot(page, '18-dashboard-after');
}

async function readOnlySteps(page) {
  await check('logging out ends the session', async () => {
    await page.click('#logout');
    await page.waitForURL('**/login.html');
    const r = await page.request.get(BASE + '/api/v1/session');
    if (r.status() !== 401) throw new Error(`session still answers ${r.status()}`);
  });

  await check('a read-only token sees no change controls and no tokens page', async () => {
    await page.fill('#token', env('READ_TOKEN'));
    await page.click('#login-button');
    await page.waitForURL(BASE + '/');
    await page.goto(`${BASE}/phone.html?name=${PHONE}`);
    await page.locator('#info-status').filter({ hasText: 'Upgrade Success' }).waitFor();
    if (await page.locator('#op-submit').isVisible()) throw new Error('the schedule button is visible');
    if (await page.locator('#remove-button').isVisible()) throw new Error('the remove button is visible');
    if (await page.locator('header nav a[href="/tokens.html"]').count()) throw new Error('the tokens page is offered');
  });
  await shot(page, '19-phone-read-only');
}

main().catch((e) => { notOk('browser test ran to the end', String(e.stack || e)); }).finally(() => {
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
});
