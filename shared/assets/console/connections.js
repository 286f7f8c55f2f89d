// The connections list: each connection's health and why, filtered and searched within the
// page the API's cursor gave; a new connection's connect link to send the customer.
import { useState } from './htm-preact-3.1.1.standalone.module.js';
import { call, withQuery } from './api.js';
import { html, useLoad, useAction, Loading, HealthBadge, healthReason, Pager, Problem, ShownOnce, When } from './ui.js';

/** The partner's own name for a connection, given when it was created. */
export const reference = (c) => c.reference || null;
export const environment = (c) => (c.lever && c.lever.environment) || c.environment || null;

function matches(c, { text, status, health }) {
  if (status && c.status !== status) return false;
  if (health && c.health !== health) return false;
  if (!text) return true;
  const hay = [c.id, reference(c), c.lever && c.lever.account_id, environment(c), healthReason(c)].filter(Boolean).join(' ').toLowerCase();
  return hay.includes(text.toLowerCase());
}

function Filters({ filter, setFilter }) {
  const field = (name) => (e) => setFilter({ ...filter, [name]: e.target.value });
  return html`<form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
    <label for="f-text">Search</label>
    <input id="f-text" type="search" value=${filter.text} onInput=${field('text')} placeholder="id, reference, account" />
    <label for="f-status">Status</label>
    <select id="f-status" value=${filter.status} onChange=${field('status')}>
      <option value="">Any</option>${['active', 'pending', 'needs_reconnect', 'disconnected'].map((s) => html`<option value=${s}>${s}</option>`)}
    </select>
    <label for="f-health">Health</label>
    <select id="f-health" value=${filter.health} onChange=${field('health')}>
      <option value="">Any</option><option value="green">green</option><option value="yellow">yellow</option><option value="red">red</option>
    </select>
  </form>`;
}

function Row({ c }) {
  return html`<tr>
    <td><a class="mono" href=${`#/connections/${encodeURIComponent(c.id)}`}>${c.id}</a></td>
    <td>${reference(c) || html`<span class="muted">—</span>`}</td>
    <td class="mono">${(c.lever && c.lever.account_id) || html`<span class="muted">—</span>`}</td>
    <td>${environment(c) || html`<span class="muted">—</span>`}</td>
    <td>${c.status}</td>
    <td><${HealthBadge} health=${c.health} /></td>
    <td>${healthReason(c)}</td>
    <td><${When} at=${c.updated_at} /></td>
  </tr>`;
}

/** A link the customer opens to connect Lever: the hub's own connect link when the API gives one. */
export function ConnectLink({ answer }) {
  const link = answer.connect_url || answer.authorize_url;
  return html`<div>
    <${ShownOnce} label="Connect link" value=${link}
      note=${`Send this link to the customer's Lever Super Admin.${answer.expires_at ? ` It expires ${new Date(answer.expires_at).toLocaleString()}.` : ''}`} />
    ${answer.id ? html`<p>Connection <a class="mono" href=${`#/connections/${encodeURIComponent(answer.id)}`}>${answer.id}</a></p>` : ''}
  </div>`;
}

export function ReturnUrlField({ value, onInput, id }) {
  return html`<label for=${id}>Return URL (your page the customer comes back to)</label>
    <input id=${id} type="url" required value=${value} onInput=${(e) => { sessionStorage.setItem('hub-console-return-url', e.target.value); onInput(e.target.value); }} />`;
}

function NewConnection({ onCreated }) {
  const [returnUrl, setReturnUrl] = useState(sessionStorage.getItem('hub-console-return-url') || '');
  const [ref, setRef] = useState('');
  const create = useAction(() => call('POST', '/v1/connections', ref.trim() ? { return_url: returnUrl, reference: ref.trim() } : { return_url: returnUrl }));
  const submit = async (e) => {
    e.preventDefault();
    if (await create.run()) onCreated();
  };
  return html`<section aria-labelledby="new-connection"><h2 id="new-connection">New connection</h2>
    <form class="row" onSubmit=${submit}>
      <${ReturnUrlField} id="new-return-url" value=${returnUrl} onInput=${setReturnUrl} />
      <label for="new-reference">Your reference (optional: your customer's id)</label>
      <input id="new-reference" type="text" maxlength="200" value=${ref} onInput=${(e) => setRef(e.target.value)} />
      <button type="submit" disabled=${create.busy}>Create connect link</button>
    </form>
    <${Problem} error=${create.error} />
    ${create.result ? html`<${ConnectLink} answer=${create.result} />` : ''}
  </section>`;
}

export function Connections() {
  const [cursors, setCursors] = useState([]);
  const [filter, setFilter] = useState({ text: '', status: '', health: '' });
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call('GET', withQuery('/v1/connections', { limit: 25, cursor })), [cursor]);
  return html`<div class="page"><h1 tabindex="-1">Connections</h1>
    <${Filters} filter=${filter} setFilter=${setFilter} />
    <${Loading} state=${page}>${() => {
      const shown = page.data.data.filter((c) => matches(c, filter));
      return html`<table>
          <caption>${shown.length} of ${page.data.data.length} connections on this page</caption>
          <thead><tr>${['Connection', 'Your reference', 'Lever account', 'Environment', 'Status', 'Health', 'Why', 'Updated'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
          <tbody>${shown.map((c) => html`<${Row} key=${c.id} c=${c} />`)}</tbody>
        </table>
        <${Pager} cursors=${cursors} next=${page.data.next_cursor} onMove=${setCursors} what="connections" />`;
    }}<//>
    <${NewConnection} onCreated=${page.reload} /></div>`;
}
