// axe-core over the main pages of Team Worklog, as member, leader and coordinator, at a
// phone's and a laptop's width, against a dev server on `seed --demo-password PW`.
//   mkdir /tmp/axe && cd /tmp/axe && npm install axe-core playwright-core
//   NODE_PATH=/tmp/axe/node_modules [LOCKED_ENTRY=<id of an entry in a locked month>] \
//     node bench/axe_pages.js http://127.0.0.1:8000 PW [OUT_JSON] [SCREENSHOT_DIR]
// Prints the violating nodes by rule and each distinct violation.
const fs = require('fs');
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core'), 'utf8');

const [base, password, out = 'axe.json', shots = ''] = process.argv.slice(2);
const USERS = { member: 'member-kaiganqi', leader: 'leader-kaiganqi', coordinator: 'coordinator' };
const VIEWPORTS = [{ width: 390, height: 844 }, { width: 1280, height: 800 }];
const PAGES = ['/', '/notebook/', '/notebook/new/', 'ENTRY', '/households/', 'HOUSEHOLD',
  '/dashboard/', '/report/2017/', '/dashboard/?year=2017&print=1', '/locks/', '/amendments/',
  '/import/entries/', '/import/households/', '/notebook/outbox/'];
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

let audits = 0;

async function audit(page, label, results) {
  audits += 1;
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => axe.run());
  for (const v of violations) {
    for (const node of v.nodes) {
      results.push({ page: label, rule: v.id, target: node.target.join(' '),
        summary: (node.any[0] || node.all[0] || node.none[0] || {}).message || '' });
    }
  }
}

async function firstLink(page, pattern) {
  const hrefs = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')));
  return hrefs.find((href) => pattern.test(href));
}

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  const results = [];
  const consoleErrors = [];
  for (const viewport of VIEWPORTS) {
    const anon = await browser.newContext({ viewport, bypassCSP: true });
    const login = await anon.newPage();
    await login.goto(base + '/accounts/login/');
    await audit(login, `anonymous ${viewport.width} /accounts/login/`, results);
    await anon.close();
    for (const [role, username] of Object.entries(USERS)) {
      const context = await browser.newContext({ viewport, bypassCSP: true });
      const page = await context.newPage();
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(`${page.url()} ${m.text()}`));
      await page.goto(base + '/accounts/login/');
      await page.fill('#id_username', username);
      await page.fill('#id_password', password);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit].btn-primary')]);
      await page.goto(base + '/notebook/');
      const entry = await firstLink(page, /^\/notebook\/\d+\/$/);
      await page.goto(base + '/households/');
      const household = await firstLink(page, /^\/households\/\d+\/$/);
      for (let path of PAGES) {
        path = path === 'ENTRY' ? entry : path === 'HOUSEHOLD' ? household : path;
        if (!path) continue;
        const response = await page.goto(base + path);
        if (response.status() !== 200) continue;
        const label = `${role} ${viewport.width} ${path}`;
        await audit(page, label, results);
        if (shots && role === 'leader') {
          await page.screenshot({ path: `${shots}/${viewport.width}${path.replace(/\//g, '_')}.png`, fullPage: true });
        }
      }
      if (role === 'leader' && process.env.LOCKED_ENTRY) {
        // an edit of a locked month without its reason: the reason's error is shown
        await page.goto(`${base}/notebook/${process.env.LOCKED_ENTRY}/edit/`);
        await Promise.all([page.waitForNavigation(), page.click('button[name=next][value=detail]')]);
        await audit(page, `${role} ${viewport.width} locked edit, no reason`, results);
        if (shots) await page.screenshot({ path: `${shots}/${viewport.width}_locked_edit.png`, fullPage: true });
      }
      await context.close();
    }
  }
  await browser.close();
  fs.writeFileSync(out, JSON.stringify(results, null, 1));
  const byRule = {};
  for (const r of results) byRule[r.rule] = (byRule[r.rule] || 0) + 1;
  const pages = new Set(results.map((r) => r.page));
  console.log('violating nodes by rule:', byRule, 'pages with violations:', pages.size, 'of', audits);
  const distinct = {};
  for (const r of results) distinct[`${r.rule} | ${r.target} | ${r.summary}`] = 1;
  console.log(Object.keys(distinct).sort().join('\n'));
  console.log('console errors:', [...new Set(consoleErrors)].slice(0, 10));
})();
