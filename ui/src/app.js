// tokenmeter's dashboard: reads the query API of the process that serves it, with a read
// key kept in this tab's session storage (never in the URL). The view and its filters live
// in the URL's fragment, so a link or the back button brings the same page back. Money is
// shown as the API's exact decimal strings; ratios are computed from integers (BigInt).
import { html, render, useState, useEffect, useRef } from '/ui/preact-htm.js';
import { Settings } from '/ui/settings.js';

const KEY = 'tokenmeter.readKey';
const RANGES = ['1h', '6h', '24h', '7d', '30d'];
const MODES = ['real', 'test', 'demo', 'all'];
const LISTS = [
  ['top-endpoints', 'Features'], ['top-users', 'Users'], ['top-tenants', 'Tenants'],
  ['prompt-versions', 'Prompt versions'], ['models', 'Models'], ['projects', 'Projects'],
  ['providers', 'Providers'], ['environments', 'Environments'],
];
const VIEWS = [['overview', 'Overview'], ['lists', 'Top lists'], ['prompts', 'Prompt compare'], ['budgets', 'Budgets'], ['alerts', 'Alerts'],
  ['quality', 'Data quality'], ['event', 'Event lookup'], ['settings', 'Settings']];
// Each list's drill-down: the overview filter its rows set (projects and environments set
// the scope every view is narrowed to instead).
const FOCUS = { 'top-endpoints': 'feature', 'top-users': 'user', 'top-tenants': 'tenant', 'prompt-versions': 'promptVersion',
  models: 'model', providers: 'provider' };
const FOCUS_NAMES = { feature: 'feature', user: 'user', tenant: 'tenant', promptVersion: 'prompt version', model: 'model',
  provider: 'provider' };
const SCOPE = { projects: 'project', environments: 'environment' };
// The lists a drill-down attribute narrows (the API keeps a feature's prompt versions and
// models, and a prompt version's or a model's features); a feature with one of its prompt
// versions or models is the second attribute (sub) the overview takes.
const NARROWS = { feature: ['prompt-versions', 'models'], promptVersion: ['top-endpoints'], model: ['top-endpoints'] };
const narrows = (s, list) => !s.focusKey || (!s.subKey && (NARROWS[s.focusKey] || []).includes(list));
// The drill-down attributes of `s` as query parameters.
const focusOf = (s) => ({ ...(s.focusKey ? { [s.focusKey]: s.focusValue } : {}), ...(s.subKey ? { [s.subKey]: s.subValue } : {}) });

// --- state in the URL fragment --------------------------------------------------------
function readState() {
  const p = new URLSearchParams(location.hash.slice(1));
  return {
    view: p.get('view') || 'overview',
    range: p.get('range') || '24h',
    dataMode: p.get('dataMode') || 'real',
    environment: p.get('environment') || '',
    project: p.get('project') || '',
    focusKey: p.get('focusKey') || '',
    focusValue: p.get('focusValue') || '',
    subKey: p.get('subKey') || '',
    subValue: p.get('subValue') || '',
    list: p.get('list') || 'top-endpoints',
    sort: p.get('sort') || 'cost',
    id: p.get('id') || '',
    a: p.get('a') || '',
    b: p.get('b') || '',
    pf: p.get('pf') || '',
  };
}
function writeState(s) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v) p.set(k, v);
  location.hash = p.toString();
}
// The scope filters every view takes (environment, project) added to `p`.
function withScope(p, s) {
  if (s.environment) p.set('environment', s.environment);
  if (s.project) p.set('project', s.project);
  return p;
}
function windowQuery(s, extra = {}) {
  const p = withScope(new URLSearchParams({ range: s.range, dataMode: s.dataMode }), s);
  for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
  return p.toString();
}

async function api(key, path) {
  const r = await fetch(path, { headers: { 'X-API-Key': key } });
  let body = null;
  try { body = await r.json(); } catch { body = null; }
  return { status: r.status, body };
}

// --- exact figures --------------------------------------------------------------------
const int = (n) => BigInt(n ?? 0);
function fmtInt(n) { return int(n).toLocaleString('en-US'); }
function usd(s) { return s == null ? '—' : '$' + s; }
// a / b as a percentage with one decimal, from integers.
function percent(a, b) {
  a = int(a); b = int(b);
  if (b === 0n) return '—';
  const neg = a < 0n;
  const permille = ((neg ? -a : a) * 2000n / b + 1n) / 2n;  // rounded half up
  return (neg ? '-' : '') + (permille / 10n) + '.' + (permille % 10n) + '%';
}
// Nano-USD as dollars with 9 decimals (exact).
function nanoUsd(n) {
  n = int(n);
  const neg = n < 0n; if (neg) n = -n;
  const frac = (n % 1000000000n).toString().padStart(9, '0');
  return (neg ? '-$' : '$') + (n / 1000000000n) + '.' + frac;
}
// The change from `prev` to `cur` ("+12.5%", "new", "no change").
function change(cur, prev) {
  cur = int(cur); prev = int(prev);
  if (prev === 0n) return cur === 0n ? { text: 'no change', cls: '' } : { text: 'new', cls: 'up' };
  if (cur === prev) return { text: 'no change', cls: '' };
  const p = percent(cur - prev, prev);
  return { text: (cur > prev ? '+' : '') + p + ' vs previous period', cls: cur > prev ? 'up' : 'down' };
}

// --- sign in --------------------------------------------------------------------------
function SignIn({ onKey }) {
  const [error, setError] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    const key = e.target.elements.key.value.trim();
    const r = await api(key, '/v1/dashboard/overview?range=1h');
    if (r.status === 200) { sessionStorage.setItem(KEY, key); onKey(key); return; }
    if (r.status === 403) setError('This key cannot read: an ingest key only sends events. Sign in with a read key (owner, admin or member).');
    else if (r.status === 401) setError('Unknown, malformed or revoked key.');
    else setError('The query API answered ' + r.status + (r.body && r.body.message ? ': ' + r.body.message : ''));
  };
  return html`<form class="signin" onSubmit=${submit}>
    <h1>tokenmeter</h1>
    <p class="muted">Sign in with a read key (owner, admin or member). It is kept in this tab only.</p>
    <input name="key" type="password" autocomplete="off" placeholder="tm_live_…" data-testid="key" />
    <button class="primary" type="submit" data-testid="signin">Sign in</button>
    ${error && html`<p class="error" data-testid="signin-error">${error}</p>`}
  </form>`;
}

// --- overview -------------------------------------------------------------------------
// The chart spans the whole window, however few buckets have events.
function Chart({ points, from, to }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current || !window.uPlot) return undefined;
    const xs = points.map((p) => Date.parse(p.t) / 1000);
    const cost = points.map((p) => Number(p.costNanoUsd) / 1e9);  // plotted only; figures stay exact
    const reqs = points.map((p) => p.requests);
    const plot = new window.uPlot({
      width: el.current.clientWidth || 800, height: 220,
      scales: { x: { time: true, range: () => [Date.parse(from) / 1000, Date.parse(to) / 1000] } },
      series: [{}, { label: 'Spend (USD)', stroke: '#2f6fed', scale: 'usd' }, { label: 'Requests', stroke: '#98a2b3', scale: 'n' }],
      axes: [{}, { scale: 'usd' }, { scale: 'n', side: 1 }],
    }, [xs, cost, reqs], el.current);
    return () => plot.destroy();
  }, [points, from, to]);
  return html`<div ref=${el} data-testid="chart"></div>`;
}

function Card({ id, label, value, cur, prev, testid }) {
  const c = change(cur, prev);
  return html`<div class="card" data-testid=${testid || id}>
    <div class="label">${label}</div>
    <div class="value" data-testid=${(testid || id) + '-value'}>${value}</div>
    <div class=${'change ' + c.cls}>${c.text}</div>
  </div>`;
}

function Overview({ keyv, s, set }) {
  const [data, setData] = useState(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const extra = focusOf(s);
      const now = await api(keyv, '/v1/dashboard/overview?' + windowQuery(s, extra));
      if (!now.body || !now.body.ok) { if (live) setData({ error: now }); return; }
      const from = Date.parse(now.body.from), to = Date.parse(now.body.to);
      const prevQ = withScope(new URLSearchParams({ from: new Date(from - (to - from)).toISOString(), to: now.body.from,
        dataMode: s.dataMode }), s);
      for (const [k, v] of Object.entries(extra)) prevQ.set(k, v);
      const [prev, series] = await Promise.all([
        api(keyv, '/v1/dashboard/overview?' + prevQ.toString()),
        api(keyv, '/v1/dashboard/timeseries?' + windowQuery(s, extra)),
      ]);
      if (live) setData({ now: now.body, prev: prev.body, series: series.body });
    })();
    return () => { live = false; };
  }, [keyv, s.range, s.dataMode, s.environment, s.project, s.focusKey, s.focusValue, s.subKey, s.subValue]);
  if (!data) return html`<p class="muted">Loading…</p>`;
  if (data.error) return html`<p class="error">${(data.error.body && data.error.body.message) || 'error ' + data.error.status}</p>`;
  const t = data.now.totals, p = (data.prev && data.prev.totals) || {};
  const errRate = (x) => percent(x.errors, x.requests);
  return html`<div>
    ${data.now.retentionTruncated && html`<p class="muted" data-testid="retention">Data before ${data.now.availableFrom} is no
      longer kept at this granularity: the figures start there.</p>`}
    ${s.focusKey && html`<p data-testid="focus">Only ${FOCUS_NAMES[s.focusKey]} <strong>${s.focusValue}</strong>${s.subKey
      && html`, ${FOCUS_NAMES[s.subKey]} <strong>${s.subValue}</strong>`}
      <button onClick=${() => set({ focusKey: '', focusValue: '', subKey: '', subValue: '' })} data-testid="focus-clear">show all</button></p>`}
    <div class="cards">
      <${Card} id="spend" label="Spend" value=${usd(t.costUsd)} cur=${t.costNanoUsd} prev=${p.costNanoUsd} />
      <${Card} id="requests" label="Requests" value=${fmtInt(t.requests)} cur=${t.requests} prev=${p.requests} />
      <${Card} id="retries" label="Retry multiplier" value=${t.retryMultiplier ?? '—'} cur=${t.duplicates} prev=${p.duplicates} />
      <${Card} id="error-rate" label="Error rate" value=${errRate(t)} cur=${t.errors} prev=${p.errors} />
      <${Card} id="latency" label="Latency p50 / p95" value=${t.p50LatencyMs == null ? '—' : t.p50LatencyMs + ' / ' + t.p95LatencyMs + ' ms'} cur=${t.p95LatencyMs} prev=${p.p95LatencyMs} />
      <${Card} id="unpriced" label="Unpriced calls" value=${fmtInt(t.unpricedRequests)} cur=${t.unpricedRequests} prev=${p.unpricedRequests} />
    </div>
    <div class="panel"><h2>Spend and requests (${data.series && data.series.granularity})</h2>
      ${data.series && data.series.points && data.series.points.length
        ? html`<${Chart} points=${data.series.points} from=${data.now.from} to=${data.now.to} />`
        : html`<p class="muted">No events in this window.</p>`}
    </div>
    ${data.series && data.series.points && data.series.points.length > 0 &&
      html`<${Investigate} keyv=${keyv} s=${s} points=${data.series.points} granularity=${data.series.granularity} />`}
  </div>`;
}

// --- investigate a spike: what moved the spend in one bucket against the one before ----
const SPANS = { minute: 60000, hour: 3600000, day: 86400000 };
const MOVERS = [['top-endpoints', 'Features'], ['prompt-versions', 'Prompt versions'], ['models', 'Models'], ['top-tenants', 'Tenants']];
function Investigate({ keyv, s, points, granularity }) {
  const [at, setAt] = useState('');
  const [moved, setMoved] = useState(null);
  useEffect(() => {
    if (!at) { setMoved(null); return undefined; }
    let live = true;
    (async () => {
      const span = SPANS[granularity];
      const t = Date.parse(at);
      const q = (from, to, list) => {
        const p = withScope(new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString(),
          dataMode: s.dataMode, granularity, limit: '1000', ...focusOf(s) }), s);
        return api(keyv, `/v1/dashboard/${list}?` + p.toString());
      };
      const out = [];
      for (const [list, label] of MOVERS.filter(([l]) => narrows(s, l))) {
        const [now, before] = await Promise.all([q(t, t + span, list), q(t - span, t, list)]);
        const cost = new Map();
        for (const i of (before.body && before.body.items) || []) cost.set(i.value, [0n, int(i.costNanoUsd)]);
        for (const i of (now.body && now.body.items) || []) cost.set(i.value, [int(i.costNanoUsd), (cost.get(i.value) || [0n, 0n])[1]]);
        const rows = [...cost.entries()].map(([value, [c, b]]) => ({ value, now: c, before: b, delta: c - b }))
          .filter((r) => r.delta !== 0n)
          .sort((a, b) => (b.delta > 0n ? b.delta : -b.delta) > (a.delta > 0n ? a.delta : -a.delta) ? 1 : -1)
          .slice(0, 5);
        out.push({ label, rows });
      }
      if (live) setMoved(out);
    })();
    return () => { live = false; };
  }, [keyv, at, s.dataMode, s.environment, s.project, s.focusKey, s.focusValue, s.subKey, granularity]);
  const left = MOVERS.filter(([l]) => !narrows(s, l)).map(([, label]) => label.toLowerCase());
  return html`<div class="panel"><h2>Investigate a ${granularity}</h2>
    <select data-testid="investigate" value=${at} onChange=${(e) => setAt(e.target.value)}>
      <option value="">choose a ${granularity} of the chart…</option>
      ${points.map((p) => html`<option value=${p.t}>${p.t} (${usd(p.costUsd)})</option>`)}
    </select>
    ${moved && html`<p class="muted">What moved the spend in this ${granularity} against the ${granularity} before${left.length
      ? ' (' + left.join(', ') + ': not kept under this drill-down)' : ''}.</p>
      ${moved.map((m) => html`<h2>${m.label}</h2>${m.rows.length === 0 ? html`<p class="muted">No change.</p>`
        : html`<table data-testid=${'movers-' + m.label}><thead><tr><th>${m.label}</th><th>Before</th><th>This ${granularity}</th><th>Change</th></tr></thead>
          <tbody>${m.rows.map((r) => html`<tr><td>${r.value}</td><td>${nanoUsd(r.before)}</td><td>${nanoUsd(r.now)}</td>
            <td>${(r.delta > 0n ? '+' : '') + nanoUsd(r.delta)}</td></tr>`)}</tbody></table>`}`)}`}
  </div>`;
}

// --- prompt impact: two prompt versions (of one feature, or of all) side by side -------
function PromptCompare({ keyv, s, set }) {
  const [features, setFeatures] = useState(null);
  const [versions, setVersions] = useState(null);
  const [sides, setSides] = useState(null);
  useEffect(() => {
    let live = true;
    api(keyv, '/v1/dashboard/top-endpoints?' + windowQuery(s, { sort: 'requests', limit: '200' }))
      .then((r) => live && setFeatures(((r.body && r.body.items) || []).map((i) => i.value)));
    return () => { live = false; };
  }, [keyv, s.range, s.dataMode, s.environment, s.project]);
  useEffect(() => {
    let live = true;
    setVersions(null);
    api(keyv, '/v1/dashboard/prompt-versions?' + windowQuery(s, { sort: 'requests', limit: '200', feature: s.pf }))
      .then((r) => live && setVersions(((r.body && r.body.items) || []).map((i) => i.value)));
    return () => { live = false; };
  }, [keyv, s.pf, s.range, s.dataMode, s.environment, s.project]);
  useEffect(() => {
    if (!s.a || !s.b) { setSides(null); return undefined; }
    let live = true;
    Promise.all([s.a, s.b].map((v) => api(keyv, '/v1/dashboard/overview?' + windowQuery(s, { feature: s.pf, promptVersion: v }))))
      .then((r) => live && setSides(r.map((x) => (x.body && x.body.totals) || null)));
    return () => { live = false; };
  }, [keyv, s.a, s.b, s.pf, s.range, s.dataMode, s.environment, s.project]);
  if (!versions || !features) return html`<p class="muted">Loading…</p>`;
  const pick = (side) => html`<select data-testid=${'prompt-' + side} value=${s[side]} onChange=${(e) => set({ [side]: e.target.value })}>
    <option value="">choose a prompt version…</option>${versions.map((v) => html`<option value=${v}>${v}</option>`)}</select>`;
  const perRequest = (t, field) => (int(t.requests) === 0n ? '—' : fmtInt(int(t[field]) / int(t.requests)));
  const rows = sides && [
    ['Calls', (t) => fmtInt(t.requests)],
    ['Spend', (t) => usd(t.costUsd)],
    ['Cost / request', (t) => (int(t.requests) === 0n ? '—' : nanoUsd(int(t.costNanoUsd) / int(t.requests)))],
    ['Input tokens / request', (t) => perRequest(t, 'inputTokens')],
    ['Output tokens / request', (t) => perRequest(t, 'outputTokens')],
    ['Latency p50 / p95', (t) => (t.p50LatencyMs == null ? '—' : t.p50LatencyMs + ' / ' + t.p95LatencyMs + ' ms')],
    ['Error rate', (t) => percent(t.errors, t.requests)],
    ['Retry multiplier', (t) => t.retryMultiplier ?? '—'],
  ];
  return html`<div class="panel"><h2>Prompt impact</h2>
    <div class="filters" style="margin: 0 0 12px"><label>feature</label>
      <select data-testid="prompt-feature" value=${s.pf} onChange=${(e) => set({ pf: e.target.value, a: '', b: '' })}>
        <option value="">all features</option>${features.map((v) => html`<option value=${v}>${v}</option>`)}</select></div>
    ${versions.length === 0 ? html`<p class="muted">No calls ${s.pf ? 'of this feature ' : ''}name a prompt version in this window (send promptVersion).</p>`
      : html`<div class="filters" style="margin: 0 0 12px">${pick('a')} <span>against</span> ${pick('b')}</div>`}
    ${rows && sides[0] && sides[1] && html`<table data-testid="prompt-table"><thead><tr><th></th><th>${s.a}</th><th>${s.b}</th></tr></thead>
      <tbody>${rows.map(([label, f]) => html`<tr><td>${label}</td><td>${f(sides[0])}</td><td>${f(sides[1])}</td></tr>`)}</tbody></table>`}
  </div>`;
}

// --- budgets --------------------------------------------------------------------------
function Budgets({ keyv }) {
  const [r, setR] = useState(null);
  useEffect(() => {
    let live = true;
    api(keyv, '/v1/budgets').then((x) => live && setR(x));
    return () => { live = false; };
  }, [keyv]);
  if (!r) return html`<p class="muted">Loading…</p>`;
  if (!r.body || !r.body.ok) return html`<p class="error">${(r.body && r.body.message) || 'error ' + r.status}</p>`;
  return html`<div class="panel"><h2>Budgets (as of ${r.body.asOf})</h2>
    ${r.body.budgets.length === 0 ? html`<p class="muted">No budgets: add them under workspaces[].budgets.</p>`
      : html`<table data-testid="budgets-table"><thead><tr><th>Budget</th><th>Period</th><th>Scope</th><th>Spend</th><th>Limit</th>
        <th>Utilization</th><th>State</th><th>Runs out</th></tr></thead>
      <tbody>${r.body.budgets.map((b) => html`<tr><td>${b.budget}</td><td>${b.period} from ${b.periodStart.slice(0, 10)}</td>
        <td>${Object.entries(b.scope || {}).map(([k, v]) => k + '=' + v).join(', ') || 'workspace'}</td>
        <td>${usd(b.spendUsd)}</td><td>${usd(b.limitUsd)}</td><td>${b.utilization}</td><td>${b.state}</td>
        <td>${(b.forecast && b.forecast.exhaustsAt) || 'not this period'}</td></tr>`)}</tbody></table>`}
  </div>`;
}

// --- alerts inbox ---------------------------------------------------------------------
function Alerts({ keyv }) {
  const [r, setR] = useState(null);
  const [note, setNote] = useState('');
  const load = () => api(keyv, '/v1/alerts').then(setR);
  useEffect(() => { load(); }, [keyv]);
  const replay = async (id) => {
    const res = await fetch('/v1/alerts/' + encodeURIComponent(id) + '/replay', { method: 'POST', headers: { 'X-API-Key': keyv } });
    const body = await res.json().catch(() => ({}));
    setNote(res.status === 202 ? 'Queued again for ' + body.queued.join(', ') : (body.message || 'error ' + res.status));
    load();
  };
  if (!r) return html`<p class="muted">Loading…</p>`;
  if (!r.body || !r.body.ok) return html`<p class="error">${(r.body && r.body.message) || 'error ' + r.status}</p>`;
  return html`<div class="panel"><h2>Alerts of the last 30 days</h2>
    ${note && html`<p data-testid="replay-note">${note}</p>`}
    ${r.body.alerts.length === 0 ? html`<p class="muted" data-testid="alerts-none">No alerts.</p>`
      : html`<table data-testid="alerts-table"><thead><tr><th>Alert</th><th>Type</th><th>Scope</th><th>Decided</th><th>Deliveries</th><th></th></tr></thead>
      <tbody>${r.body.alerts.map(({ alert, deliveries }) => html`<tr><td>${alert.message}</td><td>${alert.type} (${alert.status})</td>
        <td>${Object.entries(alert.scope || {}).map(([k, v]) => k + '=' + v).join(', ')}</td><td>${alert.at}</td>
        <td>${deliveries.map((d) => d.sink + ': ' + d.state + ' (' + d.attempts + ')').join(', ') || 'no route'}</td>
        <td>${deliveries.some((d) => d.state !== 'pending') && html`<button onClick=${() => replay(alert.id)}>Replay</button>`}</td></tr>`)}</tbody></table>`}
  </div>`;
}

// --- top lists ------------------------------------------------------------------------
function Lists({ keyv, s, set }) {
  const [got, setData] = useState(null);
  const narrowed = s.focusKey !== '' && narrows(s, s.list);
  const focus = narrowed ? focusOf(s) : {};
  const listKey = [s.list, s.sort, s.range, s.dataMode, s.environment, s.project, narrowed && s.focusKey, narrowed && s.focusValue].join('|');
  const data = got && got.key === listKey ? got : null;  // never another list's rows under this heading
  useEffect(() => {
    let live = true;
    (async () => {
      const [list, total] = await Promise.all([
        api(keyv, `/v1/dashboard/${s.list}?` + windowQuery(s, { sort: s.sort, limit: '50', ...focus })),
        api(keyv, '/v1/dashboard/overview?' + windowQuery(s, focus)),
      ]);
      if (live) setData({ key: listKey, list, total: total.body && total.body.totals });
    })();
    return () => { live = false; };
  }, [keyv, s.list, s.sort, s.range, s.dataMode, s.environment, s.project, narrowed, s.focusKey, s.focusValue]);
  const body = data && data.list.body;
  // A row narrows the overview to it (under a narrowing attribute: to the feature with that
  // prompt version or model); a project or an environment narrows every view.
  const drill = (value) => {
    if (SCOPE[s.list]) return set({ view: 'overview', [SCOPE[s.list]]: value, focusKey: '', focusValue: '', subKey: '', subValue: '' });
    if (!narrowed) return set({ view: 'overview', focusKey: FOCUS[s.list], focusValue: value, subKey: '', subValue: '' });
    if (s.focusKey === 'feature') return set({ view: 'overview', subKey: FOCUS[s.list], subValue: value });
    return set({ view: 'overview', focusKey: 'feature', focusValue: value, subKey: s.focusKey, subValue: s.focusValue });
  };
  const focusName = s.focusKey && html`${FOCUS_NAMES[s.focusKey]} <strong>${s.focusValue}</strong>${s.subKey
    && html`, ${FOCUS_NAMES[s.subKey]} <strong>${s.subValue}</strong>`}`;
  return html`<div class="panel">
    ${narrowed && html`<p data-testid="list-focus">Only ${focusName} (share of its spend)</p>`}
    ${s.focusKey && !narrowed && html`<p class="muted" data-testid="list-unnarrowed">Every value, not only ${focusName}:
      tokenmeter keeps a feature's prompt versions and models, and a prompt version's or a model's features.</p>`}
    <div class="filters" style="margin: 0 0 8px">
      <select data-testid="list" value=${s.list} onChange=${(e) => set({ list: e.target.value })}>
        ${LISTS.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
      </select>
      <label>sort</label>
      <select data-testid="sort" value=${s.sort} onChange=${(e) => set({ sort: e.target.value })}>
        ${['cost', 'requests', 'tokens'].map((v) => html`<option value=${v}>${v}</option>`)}
      </select>
    </div>
    ${!data ? html`<p class="muted">Loading…</p>`
      : !body || !body.ok ? html`<p class="error">${(body && body.message) || 'error ' + data.list.status}</p>`
      : html`<table data-testid="list-table">
        <thead><tr><th>${LISTS.find(([v]) => v === s.list)[1]}</th><th>Requests</th><th>Spend</th><th>Share of spend</th>
          <th>Cost / request</th><th>Tokens in / out</th><th>Retry multiplier</th><th>Errors</th><th>Unpriced</th></tr></thead>
        <tbody>${body.items.map((i) => html`<tr>
          <td><a href="#" data-testid="drill" onClick=${(e) => { e.preventDefault(); drill(i.value); }}>${i.value}</a></td><td>${fmtInt(i.requests)}</td><td>${usd(i.costUsd)}</td>
          <td>${data.total ? percent(i.costNanoUsd, data.total.costNanoUsd) : '—'}</td>
          <td>${int(i.requests) === 0n ? '—' : nanoUsd(int(i.costNanoUsd) / int(i.requests))}</td>
          <td>${fmtInt(i.inputTokens)} / ${fmtInt(i.outputTokens)}</td><td>${i.retryMultiplier ?? '—'}</td><td>${fmtInt(i.errors)}</td>
          <td>${fmtInt(i.unpricedRequests)}</td>
        </tr>`)}</tbody></table>
        ${body.items.length === 0 && html`<p class="muted">No events in this window.</p>`}`}
  </div>`;
}

// --- unpriced models ------------------------------------------------------------------
function Unpriced({ keyv, s }) {
  const [r, setR] = useState(null);
  useEffect(() => {
    let live = true;
    api(keyv, '/v1/models/unpriced?' + windowQuery(s, { limit: '100' })).then((x) => live && setR(x));
    return () => { live = false; };
  }, [keyv, s.range, s.dataMode, s.environment, s.project]);
  if (!r) return html`<p class="muted">Loading…</p>`;
  if (!r.body || !r.body.ok) return html`<p class="error">${(r.body && r.body.message) || 'error ' + r.status}</p>`;
  return html`<div class="panel"><h2>Models counted without a price</h2>
    <p class="muted">Give them a price or an alias (workspaces[].price_overrides, model_aliases), or send estimatedCostUsd.</p>
    ${r.body.items.length === 0 ? html`<p data-testid="unpriced-none">Every call in this window was priced.</p>`
      : html`<table data-testid="unpriced-table"><thead><tr><th>Provider / model</th><th>Calls</th><th>Tokens in / out</th><th>First seen</th><th>Last seen</th></tr></thead>
      <tbody>${r.body.items.map((i) => html`<tr><td>${i.provider} / ${i.model}</td><td>${fmtInt(i.requests)}</td>
        <td>${fmtInt(i.inputTokens)} / ${fmtInt(i.outputTokens)}</td><td>${i.firstSeen}</td><td>${i.lastSeen}</td></tr>`)}</tbody></table>`}
  </div>`;
}

// --- data quality: the first-ingest checklist and a tracking-quality score --------------
function Quality({ keyv, s }) {
  const [checks, setChecks] = useState(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const q = (path, extra = {}) => api(keyv, path + '?' + new URLSearchParams({ range: '30d', dataMode: 'real', limit: '1000', ...extra }).toString());
      const [real, all, features, prompts, users, envs] = await Promise.all([
        q('/v1/dashboard/overview'), q('/v1/dashboard/overview', { dataMode: 'all' }), q('/v1/dashboard/top-endpoints'),
        q('/v1/dashboard/prompt-versions'), q('/v1/dashboard/top-users'), q('/v1/dashboard/environments')]);
      const t = (real.body && real.body.totals) || {};
      const total = int(t.requests);
      const allTotal = int(all.body && all.body.totals && all.body.totals.requests);
      const unknownOf = (r) => int(((r.body && r.body.items) || []).filter((i) => i.value === 'unknown').reduce((a, i) => a + int(i.requests), 0n));
      const sumOf = (r) => ((r.body && r.body.items) || []).reduce((a, i) => a + int(i.requests), 0n);
      const share = (part) => (total === 0n ? '—' : percent(part, total));
      // Data-mode alignment: real calls come from production; the rest is marked test or demo.
      const offProd = ((envs.body && envs.body.items) || []).filter((i) => i.value !== 'prod');
      const offProdCalls = offProd.reduce((a, i) => a + int(i.requests), 0n);
      const rows = [
        { id: 'key', weight: 0n, ok: true, label: 'A read key works', detail: 'signed in' },
        { id: 'first-event', weight: 20n, ok: total > 0n, label: 'Events received (real data, last 30 days)',
          detail: total > 0n ? fmtInt(total) + ' counted' : allTotal > 0n ? 'only test or demo data: send real events with dataMode real' : 'none yet: send one (see the quickstart)' },
        { id: 'features', weight: 20n, ok: total > 0n && unknownOf(features) * 10n <= total, label: 'Calls name their feature (endpointTag / feature)',
          detail: share(total - unknownOf(features)) + ' of calls' },
        { id: 'prompts', weight: 15n, ok: total > 0n && sumOf(prompts) * 10n >= total * 5n, label: 'Calls name their prompt version (promptVersion)',
          detail: share(sumOf(prompts)) + ' of calls' },
        { id: 'identities', weight: 10n, ok: total > 0n && unknownOf(users) * 10n <= total * 5n, label: 'Calls name a user (userId)',
          detail: share(total - unknownOf(users)) + ' of calls' },
        { id: 'priced', weight: 20n, ok: total > 0n && int(t.unpricedRequests) === 0n, label: 'Every model is priced',
          detail: fmtInt(t.unpricedRequests) + ' unpriced calls (see Unpriced models)' },
        { id: 'usage', weight: 5n, ok: total > 0n && int(t.inputTokens) + int(t.outputTokens) > 0n, label: 'Token counts are sent',
          detail: fmtInt(int(t.inputTokens) + int(t.outputTokens)) + ' tokens' },
        { id: 'modes', weight: 10n, ok: total > 0n && offProdCalls * 10n <= total,
          label: 'Data modes match environments (dataMode)',
          detail: (offProdCalls === 0n ? 'every real call from prod' : share(offProdCalls) + ' of real calls from '
            + offProd.map((i) => i.value).join(', ') + ': send them with dataMode test')
            + '; ' + fmtInt(allTotal - total) + ' test and demo calls kept apart' },
      ];
      const score = rows.reduce((a, r) => a + (r.ok ? r.weight : 0n), 0n);
      if (live) setChecks({ rows, score, fix: rows.filter((r) => !r.ok).sort((a, b) => (b.weight > a.weight ? 1 : -1))[0] });
    })();
    return () => { live = false; };
  }, [keyv]);
  if (!checks) return html`<p class="muted">Loading…</p>`;
  return html`<div class="panel"><h2>Tracking quality: <span data-testid="quality-score">${checks.score}</span> / 100</h2>
    ${checks.fix ? html`<p data-testid="quality-fix">Fix first: ${checks.fix.label.toLowerCase()} (${checks.fix.detail}).</p>` : html`<p>Nothing to fix.</p>`}
    <table data-testid="quality-table"><thead><tr><th>Check</th><th>State</th><th>Detail</th></tr></thead>
      <tbody>${checks.rows.map((r) => html`<tr data-testid=${'check-' + r.id}><td>${r.label}</td><td>${r.ok ? 'ok' : 'to fix'}</td><td>${r.detail}</td></tr>`)}</tbody></table>
    <p class="muted">Real data of the last 30 days.</p>
  </div>`;
}

// --- event lookup ---------------------------------------------------------------------
function EventLookup({ keyv, s, set }) {
  const [r, setR] = useState(null);
  useEffect(() => {
    if (!s.id) { setR(null); return undefined; }
    let live = true;
    api(keyv, '/v1/events/' + encodeURIComponent(s.id)).then((x) => live && setR(x));
    return () => { live = false; };
  }, [keyv, s.id]);
  const submit = (e) => { e.preventDefault(); set({ id: e.target.elements.id.value.trim() }); };
  const ev = r && r.body && r.body.ok ? r.body : null;
  return html`<div class="panel">
    <form onSubmit=${submit} class="filters" style="margin: 0 0 12px">
      <input name="id" placeholder="requestId" value=${s.id} data-testid="event-id" />
      <button type="submit" data-testid="event-find">Find</button>
    </form>
    ${r && !ev && html`<p class="error" data-testid="event-error">${(r.body && r.body.message) || 'error ' + r.status}</p>`}
    ${ev && html`<dl data-testid="event">
      <dt>requestId</dt><dd>${ev.requestId}</dd>
      <dt>attempts</dt><dd data-testid="event-attempts">${ev.attempts}</dd>
      <dt>first seen</dt><dd>${ev.firstSeenAt}</dd>
      <dt>provider / model</dt><dd>${ev.event.provider} / ${ev.event.model}</dd>
      <dt>feature</dt><dd>${ev.event.endpoint_tag || 'unknown'}</dd>
      <dt>tokens in / out</dt><dd>${fmtInt(ev.event.input_tokens)} / ${fmtInt(ev.event.output_tokens)}</dd>
      <dt>cost</dt><dd data-testid="event-cost">${usd(ev.cost.cost_usd)}</dd>
      <dt>cost source</dt><dd>${ev.cost.cost_source} (catalog ${ev.cost.catalog_version})</dd>
      <dt>breakdown</dt><dd>${Object.entries(ev.cost.breakdown_usd).map(([k, v]) => k + ' $' + v).join(', ')}</dd>
    </dl>`}
  </div>`;
}

// --- data hygiene: remove demo or test rows (never real ones) ---------------------------
const CLEANUPS = [
  ['demo', 'workspace', "Remove the workspace's demo data", 'clear-demo'],
  ['test', 'mine', 'Clear my test data', 'clear-my-test'],
];
function Hygiene({ keyv }) {
  const [asked, setAsked] = useState(null);  // the cleanup waiting for its confirmation
  const [result, setResult] = useState(null);
  const run = async ([mode, scope]) => {
    setAsked(null);
    setResult({ message: 'Asking…' });
    const r = await fetch(`/v1/ingest/${mode}-data?scope=${scope}`, { method: 'DELETE', headers: { 'X-API-Key': keyv } });
    let body = null;
    try { body = await r.json(); } catch { body = null; }
    if (r.status !== 202 || !body || !body.ok) {
      setResult({ error: true, message: (body && body.message) || 'error ' + r.status });
      return;
    }
    for (let i = 0; i < 50; i++) {  // applied within milliseconds in serve; give up after ~10 s
      const st = await api(keyv, body.status);
      if (st.body && st.body.done) {
        const c = st.body.cleanup;
        setResult({ message: `Removed ${fmtInt(c.removedEvents)} ${c.dataMode} events and ${fmtInt(c.removedRetries)} retries.` });
        return;
      }
      await new Promise((done) => setTimeout(done, 200));
    }
    setResult({ message: `Accepted (cleanup ${body.cleanupId}); still being applied.` });
  };
  return html`<div class="panel"><h2>Data hygiene</h2>
    <p class="muted">Removes demo or test rows as if they had never been sent; real data is never removed. The
      workspace's rows need an owner or admin key; "my" rows are those ingested by the keys of your key's owner.</p>
    ${CLEANUPS.map((c) => html`<button data-testid=${c[3]} onClick=${() => { setResult(null); setAsked(c); }}>${c[2]}</button> `)}
    ${asked && html`<p data-testid="hygiene-confirm">${asked[2]}? This cannot be undone.
      <button data-testid="hygiene-yes" onClick=${() => run(asked)}>Yes, remove</button>
      <button onClick=${() => setAsked(null)}>Cancel</button></p>`}
    ${result && html`<p class=${result.error ? 'error' : ''} data-testid="hygiene-result">${result.message}</p>`}
  </div>`;
}

// --- the page -------------------------------------------------------------------------
function App() {
  const [keyv, setKey] = useState(sessionStorage.getItem(KEY) || '');
  const [s, setS] = useState(readState());
  useEffect(() => {
    const onHash = () => setS(readState());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  if (!keyv) return html`<${SignIn} onKey=${setKey} />`;
  const set = (patch) => writeState({ ...s, ...patch });
  const signOut = () => { sessionStorage.removeItem(KEY); setKey(''); };
  return html`<div>
    <header>
      <h1>tokenmeter</h1>
      <nav>${VIEWS.map(([v, label]) => html`<a href=${'#' + new URLSearchParams({ ...s, view: v }).toString()}
        class=${s.view === v ? 'active' : ''} data-testid=${'nav-' + v}>${label}</a>`)}</nav>
      <div class="filters">
        <span class=${'mode' + (s.dataMode === 'real' ? '' : ' notreal')} data-testid="mode">${s.dataMode} data</span>
        <select data-testid="range" value=${s.range} onChange=${(e) => set({ range: e.target.value })}>
          ${RANGES.map((r) => html`<option value=${r}>last ${r}</option>`)}
        </select>
        <select data-testid="data-mode" value=${s.dataMode} onChange=${(e) => set({ dataMode: e.target.value })}>
          ${MODES.map((m) => html`<option value=${m}>${m}</option>`)}
        </select>
        <input placeholder="environment" title="environment" value=${s.environment} data-testid="environment"
          onChange=${(e) => set({ environment: e.target.value.trim() })} />
        <input placeholder="project" title="project (unknown: events without one)" value=${s.project} data-testid="project"
          onChange=${(e) => set({ project: e.target.value.trim() })} />
        <button onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main>
      ${s.view === 'overview' && html`<${Overview} keyv=${keyv} s=${s} set=${set} />`}
      ${s.view === 'lists' && html`<${Lists} keyv=${keyv} s=${s} set=${set} />`}
      ${s.view === 'prompts' && html`<${PromptCompare} keyv=${keyv} s=${s} set=${set} />`}
      ${s.view === 'budgets' && html`<${Budgets} keyv=${keyv} />`}
      ${s.view === 'alerts' && html`<${Alerts} keyv=${keyv} />`}
      ${s.view === 'quality' && html`<${Quality} keyv=${keyv} s=${s} />`}
      ${s.view === 'quality' && html`<${Unpriced} keyv=${keyv} s=${s} />`}
      ${s.view === 'quality' && html`<${Hygiene} keyv=${keyv} />`}
      ${s.view === 'event' && html`<${EventLookup} keyv=${keyv} s=${s} set=${set} />`}
      ${s.view === 'settings' && html`<${Settings} keyv=${keyv} />`}
    </main>
  </div>`;
}

const root = document.getElementById('app');
root.textContent = '';  // the page's "Loading…"
render(html`<${App} />`, root);
