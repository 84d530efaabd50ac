// tokenmeter's dashboard: reads the query API of the process that serves it, with a read
// key kept in this tab's session storage (never in the URL). The view and its filters live
// in the URL's fragment, so a link or the back button brings the same page back. Money is
// shown as the API's exact decimal strings; ratios are computed from integers (BigInt).
import { html, render, useState, useEffect, useRef } from '/ui/preact-htm.js';

const KEY = 'tokenmeter.readKey';
const RANGES = ['1h', '6h', '24h', '7d', '30d'];
const MODES = ['real', 'test', 'demo', 'all'];
const LISTS = [
  ['top-endpoints', 'Features'], ['top-users', 'Users'], ['top-tenants', 'Tenants'],
  ['prompt-versions', 'Prompt versions'], ['models', 'Models'], ['projects', 'Projects'],
  ['providers', 'Providers'], ['environments', 'Environments'],
];
const VIEWS = [['overview', 'Overview'], ['lists', 'Top lists'], ['unpriced', 'Unpriced models'], ['event', 'Event lookup']];

// --- state in the URL fragment --------------------------------------------------------
function readState() {
  const p = new URLSearchParams(location.hash.slice(1));
  return {
    view: p.get('view') || 'overview',
    range: p.get('range') || '24h',
    dataMode: p.get('dataMode') || 'real',
    environment: p.get('environment') || '',
    project: p.get('project') || '',
    list: p.get('list') || 'top-endpoints',
    sort: p.get('sort') || 'cost',
    id: p.get('id') || '',
  };
}
function writeState(s) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v) p.set(k, v);
  location.hash = p.toString();
}
function windowQuery(s, extra = {}) {
  const p = new URLSearchParams({ range: s.range, dataMode: s.dataMode });
  if (s.environment) p.set('environment', s.environment);
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
function Chart({ points }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current || !window.uPlot) return undefined;
    const xs = points.map((p) => Date.parse(p.t) / 1000);
    const cost = points.map((p) => Number(p.costNanoUsd) / 1e9);  // plotted only; figures stay exact
    const reqs = points.map((p) => p.requests);
    const plot = new window.uPlot({
      width: el.current.clientWidth || 800, height: 220,
      series: [{}, { label: 'Spend (USD)', stroke: '#2f6fed', scale: 'usd' }, { label: 'Requests', stroke: '#98a2b3', scale: 'n' }],
      axes: [{}, { scale: 'usd' }, { scale: 'n', side: 1 }],
    }, [xs, cost, reqs], el.current);
    return () => plot.destroy();
  }, [points]);
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

function Overview({ keyv, s }) {
  const [data, setData] = useState(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const extra = { project: s.project };
      const now = await api(keyv, '/v1/dashboard/overview?' + windowQuery(s, extra));
      if (!now.body || !now.body.ok) { if (live) setData({ error: now }); return; }
      const from = Date.parse(now.body.from), to = Date.parse(now.body.to);
      const prevQ = new URLSearchParams({ from: new Date(from - (to - from)).toISOString(), to: now.body.from, dataMode: s.dataMode });
      if (s.environment) prevQ.set('environment', s.environment);
      if (s.project) prevQ.set('project', s.project);
      const [prev, series] = await Promise.all([
        api(keyv, '/v1/dashboard/overview?' + prevQ.toString()),
        api(keyv, '/v1/dashboard/timeseries?' + windowQuery(s, extra)),
      ]);
      if (live) setData({ now: now.body, prev: prev.body, series: series.body });
    })();
    return () => { live = false; };
  }, [keyv, s.range, s.dataMode, s.environment, s.project]);
  if (!data) return html`<p class="muted">Loading…</p>`;
  if (data.error) return html`<p class="error">${(data.error.body && data.error.body.message) || 'error ' + data.error.status}</p>`;
  const t = data.now.totals, p = (data.prev && data.prev.totals) || {};
  const errRate = (x) => percent(x.errors, x.requests);
  return html`<div>
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
        ? html`<${Chart} points=${data.series.points} />`
        : html`<p class="muted">No events in this window.</p>`}
    </div>
  </div>`;
}

// --- top lists ------------------------------------------------------------------------
function Lists({ keyv, s, set }) {
  const [got, setData] = useState(null);
  const listKey = [s.list, s.sort, s.range, s.dataMode, s.environment].join('|');
  const data = got && got.key === listKey ? got : null;  // never another list's rows under this heading
  useEffect(() => {
    let live = true;
    (async () => {
      const [list, total] = await Promise.all([
        api(keyv, `/v1/dashboard/${s.list}?` + windowQuery(s, { sort: s.sort, limit: '50' })),
        api(keyv, '/v1/dashboard/overview?' + windowQuery(s)),
      ]);
      if (live) setData({ key: listKey, list, total: total.body && total.body.totals });
    })();
    return () => { live = false; };
  }, [keyv, s.list, s.sort, s.range, s.dataMode, s.environment]);
  const body = data && data.list.body;
  return html`<div class="panel">
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
          <td>${i.value}</td><td>${fmtInt(i.requests)}</td><td>${usd(i.costUsd)}</td>
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
  }, [keyv, s.range, s.dataMode, s.environment]);
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
        <input placeholder="environment" value=${s.environment} data-testid="environment"
          onChange=${(e) => set({ environment: e.target.value.trim() })} />
        ${s.view === 'overview' && html`<input placeholder="project" value=${s.project} data-testid="project"
          onChange=${(e) => set({ project: e.target.value.trim() })} />`}
        <button onClick=${signOut}>Sign out</button>
      </div>
    </header>
    <main>
      ${s.view === 'overview' && html`<${Overview} keyv=${keyv} s=${s} />`}
      ${s.view === 'lists' && html`<${Lists} keyv=${keyv} s=${s} set=${set} />`}
      ${s.view === 'unpriced' && html`<${Unpriced} keyv=${keyv} s=${s} />`}
      ${s.view === 'event' && html`<${EventLookup} keyv=${keyv} s=${s} set=${set} />`}
    </main>
  </div>`;
}

const root = document.getElementById('app');
root.textContent = '';  // the page's "Loading…"
render(html`<${App} />`, root);
