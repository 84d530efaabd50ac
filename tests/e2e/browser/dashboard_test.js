// The dashboard in Debian's chromium (headless, driven by playwright-core): an ingest key
// is refused; a read key signs in; every view renders and its figures equal the query
// API's for the same filters; a narrower range changes them as the API says; the view
// and filters survive a reload through the URL, which never holds the key; no request
// leaves loopback and the console stays clean. Screenshots of each view go to <shots>.
// Settings: a member sees the keys and is refused a change with the API's reason; an owner
// makes an ingest key (its secret shown once, and it ingests at once), revokes it (then
// 401), makes a project and a budget, and reads the audit trail of those changes.
// Usage: node dashboard_test.js <base url> <read key> <ingest key> <shots dir> <owner key>
'use strict';
const { chromium } = require('playwright-core');
const http = require('http');
const path = require('path');

const [base, readKey, ingestKey, shots, ownerKey] = process.argv.slice(2);
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

function api(target) {
  return new Promise((resolve, reject) => {
    http.get(base + target, { headers: { 'X-API-Key': readKey } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}
// POST /v1/ingest with `key`: the status.
function ingest(key, requestId) {
  const body = JSON.stringify({ requestId, provider: 'openai', model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5 });
  return new Promise((resolve, reject) => {
    const req = http.request(base + '/v1/ingest', { method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/json' } },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(body);
  });
}
const money = (s) => '$' + s;
const count = (n) => BigInt(n).toLocaleString('en-US');

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors = [];
  const offLoopback = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.hostname !== '127.0.0.1') offLoopback.push(r.url());
  });
  const shot = (name) => page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  const text = (id) => page.locator(`[data-testid="${id}"]`).innerText();

  // An ingest key is refused with the reason.
  await page.goto(base + '/');
  await page.fill('[data-testid="key"]', ingestKey);
  await page.click('[data-testid="signin"]');
  const refused = await text('signin-error');
  check(refused.includes('an ingest key only sends events'), 'ingest key refusal: ' + refused);
  await shot('signin-refused');
  consoleErrors.length = 0;  // the refused key's 403, which chromium logs as a failed load

  // A read key: the overview, equal to the API's (the default range, 24h, real data).
  await page.fill('[data-testid="key"]', readKey);
  let t0 = Date.now();
  await page.click('[data-testid="signin"]');
  await page.waitForSelector('[data-testid="spend-value"]');
  const timings = ['sign-in to overview ' + (Date.now() - t0) + ' ms'];
  await page.waitForSelector('[data-testid="chart"] canvas');
  let want = (await api('/v1/dashboard/overview?range=24h&dataMode=real')).totals;
  check(await text('spend-value') === money(want.costUsd), `24h spend ${await text('spend-value')} != ${want.costUsd}`);
  check(await text('requests-value') === count(want.requests), `24h requests ${await text('requests-value')} != ${want.requests}`);
  check(await text('retries-value') === want.retryMultiplier, 'retry multiplier');
  check(await text('unpriced-value') === count(want.unpricedRequests), 'unpriced count');
  check((await text('mode')) === 'real data', 'the data mode is shown');
  await shot('overview-24h');

  // The last hour leaves out the event of three hours ago.
  const hour = (await api('/v1/dashboard/overview?range=1h&dataMode=real')).totals;
  check(hour.costNanoUsd !== want.costNanoUsd, 'the fixture has an event outside the last hour');
  t0 = Date.now();
  await page.selectOption('[data-testid="range"]', '1h');
  await page.waitForFunction((s) => (document.querySelector('[data-testid="spend-value"]') || {}).innerText === s, money(hour.costUsd));
  timings.push('re-filter to 1h ' + (Date.now() - t0) + ' ms');
  check(await text('requests-value') === count(hour.requests), '1h requests');
  check(page.url().includes('range=1h'), 'the range is in the URL: ' + page.url());
  await shot('overview-1h');

  // Top lists: features by cost, equal to the API's.
  await page.click('[data-testid="nav-lists"]');
  await page.waitForSelector('[data-testid="list-table"] tbody tr');
  const features = await api('/v1/dashboard/top-endpoints?range=1h&dataMode=real&sort=cost&limit=50');
  const rows = await page.locator('[data-testid="list-table"] tbody tr').allInnerTexts();
  check(rows.length === features.items.length, `feature rows ${rows.length} != ${features.items.length}`);
  features.items.forEach((item, i) => {
    const cells = (rows[i] || '').split('\t');
    check(cells[0] === item.value && cells[2] === money(item.costUsd), `feature row ${i}: ${rows[i]} vs ${item.value} ${item.costUsd}`);
  });
  await shot('lists-features');
  await page.selectOption('[data-testid="list"]', 'top-users');
  await page.waitForFunction(() => {
    const th = document.querySelector('[data-testid="list-table"] th');
    return th !== null && th.innerText === 'Users';
  });
  const users = await page.locator('[data-testid="list-table"] tbody tr td:first-child').allInnerTexts();
  check(users.includes('unknown'), 'events without a user are listed as unknown: ' + users.join(','));
  await shot('lists-users');

  // Drill-down: a feature's row narrows the overview to it.
  await page.selectOption('[data-testid="list"]', 'top-endpoints');
  await page.waitForSelector('[data-testid="drill"]:text-is("contract-analysis")');
  await page.click('[data-testid="drill"]:text-is("contract-analysis")');
  const feature = (await api('/v1/dashboard/overview?range=1h&dataMode=real&feature=contract-analysis')).totals;
  await page.waitForSelector('[data-testid="focus"]');
  await page.waitForFunction((s) => (document.querySelector('[data-testid="spend-value"]') || {}).innerText === s, money(feature.costUsd));
  check(feature.costUsd === '0.006000000', 'the API narrows to the feature: ' + feature.costUsd);
  check(await text('requests-value') === count(feature.requests), 'drilled requests');
  check(page.url().includes('focusValue=contract-analysis'), 'the drill-down is in the URL');
  await shot('overview-feature');

  // Drilled into a feature, the lists it narrows (its prompt versions, its models) hold its
  // calls only, as the API's; the others say they are not narrowed. A prompt version's row
  // then narrows the overview to that feature with that version.
  await page.click('[data-testid="focus-clear"]');
  await page.click('[data-testid="nav-lists"]');
  await page.waitForSelector('[data-testid="drill"]:text-is("checkout.ai_summary")');
  await page.click('[data-testid="drill"]:text-is("checkout.ai_summary")');
  await page.waitForSelector('[data-testid="focus"]');
  await page.click('[data-testid="nav-lists"]');
  await page.selectOption('[data-testid="list"]', 'prompt-versions');
  await page.waitForSelector('[data-testid="list-focus"]');
  const ofFeature = await api('/v1/dashboard/prompt-versions?range=1h&dataMode=real&sort=cost&limit=50&feature=checkout.ai_summary');
  const everyVersion = await api('/v1/dashboard/prompt-versions?range=1h&dataMode=real&sort=cost&limit=50');
  check(ofFeature.items.map((i) => i.value + ' ' + i.costUsd).join(',') === 'summarizer_v2 0.000270000,summarizer_v3 0.000210000',
    'the feature\'s prompt versions: ' + JSON.stringify(ofFeature.items.map((i) => [i.value, i.costUsd])));
  check(everyVersion.items[0].value === 'summarizer_v2' && everyVersion.items[0].costUsd !== '0.000270000',
    'summarizer_v2 also counts in another feature: ' + everyVersion.items[0].costUsd);
  await page.waitForFunction((s) => [...document.querySelectorAll('[data-testid="list-table"] tbody tr')].map((r) => r.cells[2].innerText).join() === s,
    ofFeature.items.map((i) => money(i.costUsd)).join());
  const versionRows = await page.locator('[data-testid="list-table"] tbody tr').allInnerTexts();
  ofFeature.items.forEach((item, i) => {
    const cells = (versionRows[i] || '').split('\t');
    check(cells[0] === item.value && cells[1] === count(item.requests) && cells[2] === money(item.costUsd) &&
          cells[3] === ['56.3%', '43.8%'][i], `narrowed version row ${i}: ${versionRows[i]}`);
  });
  await shot('lists-feature-prompts');
  await page.selectOption('[data-testid="list"]', 'top-users');
  await page.waitForSelector('[data-testid="list-unnarrowed"]');
  await page.selectOption('[data-testid="list"]', 'prompt-versions');
  await page.waitForSelector('[data-testid="drill"]:text-is("summarizer_v2")');
  await page.click('[data-testid="drill"]:text-is("summarizer_v2")');
  const pair = (await api('/v1/dashboard/overview?range=1h&dataMode=real&feature=checkout.ai_summary&promptVersion=summarizer_v2')).totals;
  check(pair.costUsd === '0.000270000' && pair.requests === 1, 'the API narrows to the feature\'s version: ' + JSON.stringify(pair));
  await page.waitForFunction((s) => (document.querySelector('[data-testid="spend-value"]') || {}).innerText === s, money(pair.costUsd));
  check((await text('focus')).startsWith('Only feature checkout.ai_summary, prompt version summarizer_v2'), 'the focus: ' + await text('focus'));
  check(page.url().includes('subValue=summarizer_v2'), 'the pair is in the URL: ' + page.url());

  // A project's row narrows every view to it: the overview and then the feature list.
  await page.click('[data-testid="focus-clear"]');
  await page.click('[data-testid="nav-lists"]');
  await page.selectOption('[data-testid="list"]', 'projects');
  await page.waitForSelector('[data-testid="drill"]:text-is("document-processing")');
  await page.click('[data-testid="drill"]:text-is("document-processing")');
  const project = (await api('/v1/dashboard/overview?range=1h&dataMode=real&project=document-processing')).totals;
  check(project.requests === 2, 'the API narrows to the project: ' + project.requests);
  await page.waitForFunction((s) => (document.querySelector('[data-testid="spend-value"]') || {}).innerText === s, money(project.costUsd));
  check(page.url().includes('project=document-processing'), 'the project is in the URL');
  await page.click('[data-testid="nav-lists"]');
  await page.selectOption('[data-testid="list"]', 'top-endpoints');
  const inProject = await api('/v1/dashboard/top-endpoints?range=1h&dataMode=real&sort=cost&limit=50&project=document-processing');
  check(inProject.items.map((i) => i.value).join(',') === 'contract-analysis,classification',
    'features of the project: ' + inProject.items.map((i) => i.value).join(','));
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="list-table"] tbody tr').length === n, inProject.items.length);
  const projectRows = await page.locator('[data-testid="list-table"] tbody tr').allInnerTexts();
  inProject.items.forEach((item, i) => {
    const cells = (projectRows[i] || '').split('\t');
    check(cells[0] === item.value && cells[2] === money(item.costUsd), `project feature row ${i}: ${projectRows[i]}`);
  });
  await shot('lists-project');
  await page.fill('[data-testid="project"]', '');
  await page.press('[data-testid="project"]', 'Enter');
  await page.waitForFunction(() => !location.hash.includes('project='));
  await page.click('[data-testid="nav-overview"]');

  // Investigate the chart's last bucket: what moved against the one before.
  await page.waitForSelector('[data-testid="investigate"]');
  const buckets = await page.locator('[data-testid="investigate"] option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  await page.selectOption('[data-testid="investigate"]', buckets[buckets.length - 1]);
  await page.waitForSelector('[data-testid="movers-Features"]');
  const movers = await page.locator('[data-testid="movers-Features"] tbody').innerText();
  check(movers.includes('contract-analysis\t$0.000000000\t$0.006000000\t+$0.006000000'), 'feature movers: ' + movers);
  await shot('investigate');

  // Prompt impact: two versions of one feature side by side, as the API narrows to each.
  await page.click('[data-testid="nav-prompts"]');
  await page.waitForSelector('[data-testid="prompt-feature"] option[value="checkout.ai_summary"]', { state: 'attached' });
  await page.selectOption('[data-testid="prompt-feature"]', 'checkout.ai_summary');
  await page.waitForSelector('[data-testid="prompt-a"] option[value="summarizer_v2"]', { state: 'attached' });
  await page.selectOption('[data-testid="prompt-a"]', 'summarizer_v2');
  await page.selectOption('[data-testid="prompt-b"]', 'summarizer_v3');
  await page.waitForSelector('[data-testid="prompt-table"]');
  const prompt = {};
  for (const row of await page.locator('[data-testid="prompt-table"] tbody tr').allInnerTexts()) {
    const [label, a, b] = row.split('\t');
    prompt[label] = [a, b];
  }
  const [v2, v3] = [(await api('/v1/dashboard/overview?range=1h&feature=checkout.ai_summary&promptVersion=summarizer_v2')).totals,
                    (await api('/v1/dashboard/overview?range=1h&feature=checkout.ai_summary&promptVersion=summarizer_v3')).totals];
  check(prompt.Spend && prompt.Spend[0] === money(v2.costUsd) && prompt.Spend[1] === money(v3.costUsd) &&
        v2.costUsd === '0.000270000' && v3.costUsd === '0.000210000', 'prompt spend: ' + JSON.stringify(prompt.Spend));
  check(prompt['Input tokens / request'] && prompt['Input tokens / request'].join() === '1,000,600', 'prompt tokens');
  check(prompt['Latency p50 / p95'] && prompt['Latency p50 / p95'][0] === v2.p50LatencyMs + ' / ' + v2.p95LatencyMs + ' ms',
        'prompt latency');
  check(page.url().includes('a=summarizer_v2') && page.url().includes('b=summarizer_v3') && page.url().includes('pf=checkout.ai_summary'),
    'the comparison is in the URL');
  await shot('prompts');

  // Budgets: the example config's monthly budget, as the API has it.
  await page.click('[data-testid="nav-budgets"]');
  await page.waitForSelector('[data-testid="budgets-table"] tbody tr');
  const budget = (await api('/v1/budgets')).budgets[0];
  const budgetRow = (await page.locator('[data-testid="budgets-table"] tbody tr').first().innerText()).split('\t');
  check(budgetRow[0] === 'monthly' && budgetRow[3] === money(budget.spendUsd) && budgetRow[4] === money(budget.limitUsd) &&
        budgetRow[6] === budget.state, 'budget row: ' + budgetRow.join(' | '));
  await shot('budgets');

  // Alerts: none decided for these events.
  await page.click('[data-testid="nav-alerts"]');
  await page.waitForSelector('[data-testid="alerts-none"]');
  await shot('alerts');

  // Data quality: the checklist, its score and the unpriced model.
  await page.click('[data-testid="nav-quality"]');
  await page.waitForSelector('[data-testid="quality-score"]');
  await page.waitForSelector('[data-testid="unpriced-table"]');
  const unpriced = await page.locator('[data-testid="unpriced-table"] tbody').innerText();
  check(unpriced.includes('anthropic / claude-9-opus'), 'unpriced model listed: ' + unpriced);
  // Events received (20), features named (20) and tokens sent (5); prompt versions on 3
  // calls of 8 and users on 2 of 8 (under half), one unpriced model, one real call of 8 from
  // staging (over a tenth): 45.
  check(await text('quality-score') === '45', 'quality score ' + await text('quality-score'));
  check((await text('check-priced')).includes('to fix'), 'the unpriced model is to fix');
  check((await text('check-identities')).includes('to fix\t25.0% of calls'), 'identities: ' + await text('check-identities'));
  check((await text('check-prompts')).includes('to fix\t37.5% of calls'), 'prompts: ' + await text('check-prompts'));
  check((await text('check-modes')).includes('to fix\t12.5% of real calls from staging: send them with dataMode test; 0 test and demo calls kept apart'),
    'modes: ' + await text('check-modes'));
  check((await text('quality-fix')).startsWith('Fix first: events received') === false, 'events were received');
  await shot('quality');

  // Data hygiene: a member may not remove the workspace's demo rows (the API's reason is
  // shown); its own test rows (none: the events came through the ingest key) are removed.
  const hygiene = async (button) => {
    await page.click(`[data-testid="${button}"]`);
    await page.click('[data-testid="hygiene-yes"]');
    await page.waitForFunction(() => {
      const r = document.querySelector('[data-testid="hygiene-result"]');
      return r !== null && r.innerText !== 'Asking…';
    });
    return text('hygiene-result');
  };
  const before = consoleErrors.length;
  const denied = await hygiene('clear-demo');
  // The refusal's 403, which chromium logs as a failed load: expected, and only that.
  check(consoleErrors.length === before + 1 && consoleErrors[before].includes('403'), 'console on the refusal: ' + consoleErrors.slice(before).join(' | '));
  consoleErrors.length = before;
  check(denied.startsWith('a member key cannot remove the workspace\'s rows'), 'demo cleanup by a member: ' + denied);
  const mine = await hygiene('clear-my-test');
  check(mine === 'Removed 0 test events and 0 retries.', 'my test rows: ' + mine);
  await shot('hygiene');

  // Event lookup: the retried call, its attempts and exact cost.
  await page.click('[data-testid="nav-event"]');
  await page.fill('[data-testid="event-id"]', 'test-integration-001');
  await page.click('[data-testid="event-find"]');
  await page.waitForSelector('[data-testid="event-attempts"]');
  const ev = await api('/v1/events/test-integration-001');
  check(await text('event-attempts') === String(ev.attempts), 'attempts');
  check(await text('event-cost') === money(ev.cost.cost_usd), 'event cost');
  await shot('event');

  // A reload brings the same view back from the URL; the key is in no URL.
  await page.reload();
  await page.waitForSelector('[data-testid="event-attempts"]');
  check(!page.url().includes(readKey), 'the key is not in the URL');

  // Settings as a member: the keys are listed (never a secret); a change is refused with
  // the API's reason (its 403 is the one console error expected).
  const beforeMember = consoleErrors.length;
  await page.click('[data-testid="nav-settings"]');
  await page.waitForSelector('[data-testid="keys-table"] tbody tr');
  await page.waitForSelector('[data-testid="audit-error"]');
  check((await text('audit-error')).startsWith('a member key cannot read the audit trail'), 'audit for a member: ' + await text('audit-error'));
  check(await page.locator('[data-testid="keys-table"] tbody tr').count() === 3, 'the example config has 3 keys');
  await page.click('[data-testid="key-create"]');
  await page.waitForSelector('[data-testid="keys-message"]');
  check(await text('keys-message') === 'a member key cannot manage keys; managing keys needs an owner or admin key',
    'a member making a key: ' + await text('keys-message'));
  check(consoleErrors.length === beforeMember + 2 && consoleErrors.slice(beforeMember).every((e) => e.includes('403')),
    'console on the member\'s refusals (the change and the audit trail): ' + consoleErrors.slice(beforeMember).join(' | '));
  consoleErrors.length = beforeMember;

  // As the owner: an ingest key, shown once, ingests at once; revoked, it is refused.
  await page.click('text=Sign out');
  await page.fill('[data-testid="key"]', ownerKey);
  await page.click('[data-testid="signin"]');
  await page.waitForSelector('[data-testid="keys-table"] tbody tr');
  await page.fill('[data-testid="key-name"]', 'checkout web');
  await page.click('[data-testid="key-create"]');
  await page.waitForSelector('[data-testid="key-secret"] code');
  const secret = await page.locator('[data-testid="key-secret"] code').innerText();
  check(/^tm_live_[0-9A-Za-z]{12}_/.test(secret), 'the new secret: ' + secret);
  check(await ingest(secret, 'settings-1') === 202, 'the new key ingests at once');
  const id = secret.slice(8, 20);
  await page.waitForSelector(`[data-testid="key-${id}"]`);
  check((await text('key-' + id)).includes('checkout web'), 'the new key is listed: ' + await text('key-' + id));
  await shot('settings-key-made');
  await page.click(`[data-testid="revoke-${id}"]`);
  await page.waitForFunction((k) => (document.querySelector(`[data-testid="key-${k}"]`) || {}).innerText?.includes('revoked'), id);
  check(await ingest(secret, 'settings-2') === 401, 'the revoked key is refused');
  check(/^\d{4}-\d\d-\d\dT/.test(await text('used-' + id)), 'the key that ingested shows when: ' + await text('used-' + id));
  check(!(await page.content()).includes(secret), 'the secret is gone from the page once another change is made');
  // A project and a budget.
  await page.fill('[data-testid="project-slug"]', 'billing');
  await page.click('[data-testid="project-create"]');
  await page.waitForSelector('[data-testid="project-billing"]');
  await page.fill('[data-testid="budget-id"]', 'team');
  await page.fill('[data-testid="budget-amount"]', '25');
  await page.click('[data-testid="budget-save"]');
  await page.waitForSelector('[data-testid="budget-team"]');
  check((await text('budget-team')).includes('$25'), 'the budget: ' + await text('budget-team'));
  // The audit trail: the four changes, newest first, by the owner's key.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-table"] tbody tr').length === 4);
  const audit = await page.locator('[data-testid="audit-table"] tbody tr').allInnerTexts();
  const actions = audit.map((row) => row.split('\t')[2]);
  check(JSON.stringify(actions) === JSON.stringify(['budget.put', 'project.create', 'key.revoke', 'key.create']), 'audit: ' + audit.join(' | '));
  check(audit.every((row) => row.includes(ownerKey.slice(8, 20)) && row.endsWith('applied')), 'audit by the owner: ' + audit.join(' | '));
  await shot('settings');

  check(consoleErrors.length === 0, 'console errors: ' + consoleErrors.join(' | '));
  check(offLoopback.length === 0, 'requests off loopback: ' + offLoopback.join(' '));
  await browser.close();
  if (failures.length) {
    console.error('FAIL:\n  ' + failures.join('\n  '));
    process.exit(1);
  }
  console.log('dashboard: ok (' + timings.join(', ') + ')');
})().catch((e) => { console.error('FAIL:', e); process.exit(1); });
