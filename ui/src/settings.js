// The Settings page: the workspace's API keys, projects, budgets and audit trail over the
// admin API (/v1/admin/…). Changes take effect on every process without a restart. A new
// or rotated key's secret is shown once, here, and never again. What a role may not do is
// answered 403 by the API, and the page shows that message.
import { html, useState, useEffect } from '/ui/preact-htm.js';

async function call(key, method, path, body) {
  const init = { method, headers: { 'X-API-Key': key } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let json = null;
  try { json = await r.json(); } catch { json = null; }
  return { status: r.status, body: json };
}
const failed = (r) => (r.body && r.body.message) || 'error ' + r.status;
const list = (text) => text.split(',').map((t) => t.trim()).filter((t) => t);

// One section's data, reloaded after each change made from the page.
function useAdmin(keyv, path, version) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    let live = true;
    call(keyv, 'GET', path).then((r) => { if (live) setState(r.status === 200 ? { data: r.body } : { error: failed(r) }); });
    return () => { live = false; };
  }, [keyv, path, version]);
  return state;
}

function Keys({ keyv, changed, version }) {
  const st = useAdmin(keyv, '/v1/admin/keys', version);
  const [form, setForm] = useState({ role: 'ingest', name: '', env: 'live', project: '', environment: '' });
  const [shown, setShown] = useState(null);  // {label, secret}: shown once
  const [message, setMessage] = useState(null);
  const run = async (method, path, body, label) => {
    setMessage(null);
    setShown(null);
    const r = await call(keyv, method, path, body);
    if (r.status >= 300) return setMessage({ error: true, text: failed(r) });
    if (r.body.secret) setShown({ label, secret: r.body.secret });
    else setMessage({ text: label });
    changed();
  };
  const create = (e) => {
    e.preventDefault();
    const body = { role: form.role, env: form.env };
    for (const k of ['name', 'project', 'environment']) if (form[k]) body[k] = form[k];
    run('POST', '/v1/admin/keys', body, `New ${form.role} key`);
    setForm({ ...form, name: '', project: '', environment: '' });
  };
  const field = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  return html`<div class="panel"><h2>API keys</h2>
    ${shown && html`<p class="secret" data-testid="key-secret">${shown.label}: <code>${shown.secret}</code><br />
      Copy it now: it is shown this once (only its SHA-256 is kept).</p>`}
    ${message && html`<p class=${message.error ? 'error' : ''} data-testid="keys-message">${message.text}</p>`}
    ${st.error ? html`<p class="error" data-testid="keys-error">${st.error}</p>` : !st.data ? html`<p>Loading…</p>`
      : html`<table data-testid="keys-table"><thead><tr><th>Key</th><th>Name</th><th>Role</th><th>Project / environment</th>
        <th>Created</th><th>Last used</th><th>State</th><th></th></tr></thead>
        <tbody>${st.data.keys.map((k) => html`<tr data-testid=${'key-' + k.id}>
          <td><code>${k.prefix || k.id}</code></td><td>${k.name}</td><td>${k.role}</td>
          <td>${k.project || '—'} / ${k.environment || '—'}</td><td>${k.createdAt || 'config file'}</td>
          <td data-testid=${'used-' + k.id} title="as this process saw it">${k.lastUsedAt || 'not since start'}</td>
          <td>${k.revoked ? 'revoked' : k.previousSecretValidUntil ? 'old secret until ' + k.previousSecretValidUntil : 'active'}</td>
          <td>${k.source === 'api' && !k.revoked && html`
            <button data-testid=${'rotate-' + k.id} onClick=${() => run('POST', `/v1/admin/keys/${k.id}/rotate`,
              { overlapSeconds: 3600 }, `New secret for ${k.id} (the old one works one more hour)`)}>Rotate</button>
            <button data-testid=${'revoke-' + k.id} onClick=${() => run('DELETE', `/v1/admin/keys/${k.id}`, undefined,
              `Key ${k.id} revoked`)}>Revoke</button>`}</td></tr>`)}</tbody></table>`}
    <form onSubmit=${create} data-testid="key-form">
      <select value=${form.role} onChange=${field('role')} data-testid="key-role">
        ${['ingest', 'member', 'admin', 'owner'].map((r) => html`<option value=${r}>${r}</option>`)}</select>
      <select value=${form.env} onChange=${field('env')}><option value="live">live</option><option value="test">test</option></select>
      <input placeholder="name" value=${form.name} onInput=${field('name')} data-testid="key-name" />
      <input placeholder="default project" value=${form.project} onInput=${field('project')} />
      <input placeholder="default environment" value=${form.environment} onInput=${field('environment')} />
      <button type="submit" data-testid="key-create">Create key</button>
    </form></div>`;
}

function Projects({ keyv, changed, version }) {
  const st = useAdmin(keyv, '/v1/admin/projects', version);
  const [form, setForm] = useState({ slug: '', name: '', environments: '' });
  const [message, setMessage] = useState(null);
  const create = async (e) => {
    e.preventDefault();
    const r = await call(keyv, 'POST', '/v1/admin/projects',
      { slug: form.slug, name: form.name, environments: list(form.environments) });
    setMessage(r.status >= 300 ? { error: true, text: failed(r) } : { text: `Project ${form.slug} created` });
    if (r.status < 300) {
      setForm({ slug: '', name: '', environments: '' });
      changed();
    }
  };
  const field = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  return html`<div class="panel"><h2>Projects</h2>
    ${message && html`<p class=${message.error ? 'error' : ''} data-testid="projects-message">${message.text}</p>`}
    ${st.error ? html`<p class="error">${st.error}</p>` : !st.data ? html`<p>Loading…</p>`
      : html`<table data-testid="projects-table"><thead><tr><th>Slug</th><th>Name</th><th>Environments</th><th>Source</th></tr></thead>
        <tbody>${st.data.projects.map((p) => html`<tr data-testid=${'project-' + p.slug}><td><code>${p.slug}</code></td>
          <td>${p.name}</td><td>${p.environments.join(', ') || '—'}</td><td>${p.source === 'config' ? 'config file' : 'admin API'}</td></tr>`)}
        </tbody></table>`}
    <form onSubmit=${create} data-testid="project-form">
      <input placeholder="slug (never changes)" value=${form.slug} onInput=${field('slug')} data-testid="project-slug" />
      <input placeholder="display name" value=${form.name} onInput=${field('name')} />
      <input placeholder="environments, comma-separated" value=${form.environments} onInput=${field('environments')} />
      <button type="submit" data-testid="project-create">Create project</button>
    </form></div>`;
}

function BudgetSettings({ keyv, changed, version }) {
  const st = useAdmin(keyv, '/v1/admin/budgets', version);
  const [form, setForm] = useState({ id: '', amountUsd: '', period: 'month', thresholds: '0.8', endpointTag: '', project: '' });
  const [message, setMessage] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    const body = { amountUsd: form.amountUsd, period: form.period, thresholds: list(form.thresholds) };
    if (form.endpointTag) body.endpointTag = form.endpointTag;
    if (form.project) body.project = form.project;
    const r = await call(keyv, 'PUT', `/v1/admin/budgets/${encodeURIComponent(form.id)}`, body);
    setMessage(r.status >= 300 ? { error: true, text: failed(r) } : { text: `Budget ${form.id} saved: in force at once` });
    if (r.status < 300) changed();
  };
  const remove = async (id) => {
    const r = await call(keyv, 'DELETE', `/v1/admin/budgets/${encodeURIComponent(id)}`);
    setMessage(r.status >= 300 ? { error: true, text: failed(r) } : { text: `Budget ${id} deleted` });
    if (r.status < 300) changed();
  };
  const field = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  return html`<div class="panel"><h2>Budgets made here</h2>
    <p class="muted">Every budget's spend and state is on the Budgets page; the config file's are changed there.</p>
    ${message && html`<p class=${message.error ? 'error' : ''} data-testid="budgets-message">${message.text}</p>`}
    ${st.error ? html`<p class="error">${st.error}</p>` : !st.data ? html`<p>Loading…</p>`
      : html`<table data-testid="budget-settings-table"><thead><tr><th>Budget</th><th>Amount</th><th>Period</th><th>Lines</th>
        <th>Scope</th><th></th></tr></thead>
        <tbody>${st.data.budgets.map((b) => html`<tr data-testid=${'budget-' + b.id}><td>${b.id}</td><td>$${b.amountUsd}</td>
          <td>${b.period}</td><td>${b.thresholds.join(', ')}</td>
          <td>${[b.project, b.environment, b.endpointTag, b.tenant].filter((x) => x).join(' / ') || 'workspace'}</td>
          <td><button onClick=${() => setForm({ ...form, id: b.id, amountUsd: b.amountUsd, period: b.period,
            thresholds: b.thresholds.join(', '), endpointTag: b.endpointTag, project: b.project })}>Edit</button>
            <button data-testid=${'budget-delete-' + b.id} onClick=${() => remove(b.id)}>Delete</button></td></tr>`)}
        </tbody></table>`}
    <form onSubmit=${save} data-testid="budget-form">
      <input placeholder="id" value=${form.id} onInput=${field('id')} data-testid="budget-id" />
      <input placeholder="amount USD" value=${form.amountUsd} onInput=${field('amountUsd')} data-testid="budget-amount" />
      <select value=${form.period} onChange=${field('period')}><option value="month">month</option><option value="day">day</option></select>
      <input placeholder="lines, e.g. 0.5, 0.8" value=${form.thresholds} onInput=${field('thresholds')} />
      <input placeholder="feature (optional)" value=${form.endpointTag} onInput=${field('endpointTag')} />
      <input placeholder="project (optional)" value=${form.project} onInput=${field('project')} />
      <button type="submit" data-testid="budget-save">Save budget</button>
    </form></div>`;
}

function Audit({ keyv, version }) {
  const st = useAdmin(keyv, '/v1/admin/audit?limit=50', version);
  return html`<div class="panel"><h2>Audit trail</h2>
    ${st.error ? html`<p class="muted" data-testid="audit-error">${st.error}</p>` : !st.data ? html`<p>Loading…</p>`
      : st.data.items.length === 0 ? html`<p class="muted">No changes made through the admin API yet.</p>`
      : html`<table data-testid="audit-table"><thead><tr><th>When</th><th>By key</th><th>Change</th><th>Of</th><th>Outcome</th></tr></thead>
        <tbody>${st.data.items.map((a) => html`<tr><td>${a.at}</td><td><code>${a.by}</code></td><td>${a.action}</td>
          <td><code>${a.target}</code></td><td>${a.applied ? 'applied' : 'refused: ' + a.refused}</td></tr>`)}</tbody></table>`}
  </div>`;
}

export function Settings({ keyv }) {
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return html`<div>
    <p class="muted">Changes here take effect on every process within a second, without a restart. Owner and admin keys
      make changes; member keys see the lists.</p>
    <${Keys} keyv=${keyv} changed=${changed} version=${version} />
    <${Projects} keyv=${keyv} changed=${changed} version=${version} />
    <${BudgetSettings} keyv=${keyv} changed=${changed} version=${version} />
    <${Audit} keyv=${keyv} version=${version} />
  </div>`;
}
