// One connection: how each flow is doing, its activity, recent candidates (retry a failed one)
// and hires, its settings, and connect, reconnect and disconnect.
import { useState } from './htm-preact-3.1.1.standalone.module.js';
import { call, withQuery } from './api.js';
import { html, useLoad, useAction, Loading, HealthBadge, healthReason, Pager, Problem, When, Confirm, SyncTimeline } from './ui.js';
import { reference, environment, ConnectLink, ReturnUrlField } from './connections.js';
import { SettingsEditor } from './settings.js';

const base = (id) => `/v1/connections/${encodeURIComponent(id)}`;

/** Lever's own page of an opportunity, in the connection's environment. */
function leverOpportunityUrl(c, opportunityId) {
  const host = environment(c) === 'sandbox' ? 'hire.sandbox.lever.co' : c.lever && c.lever.region === 'eu' ? 'hire.eu.lever.co' : 'hire.lever.co';
  return `https://${host}/candidates/${encodeURIComponent(opportunityId)}`;
}

function Fact({ term, children }) {
  return html`<div><dt>${term}</dt><dd>${children}</dd></div>`;
}

function Flows({ flows }) {
  const { jobs, webhooks, hires, ...others } = flows || {};
  return html`<section aria-labelledby="flows"><h2 id="flows">Flows</h2><div class="cards">
    ${jobs ? html`<article class="card" aria-labelledby="flow-jobs"><h3 id="flow-jobs">Jobs</h3><dl>
      <${Fact} term="State">${jobs.state} (${jobs.cadence})<//>
      <${Fact} term="Last run"><${When} at=${jobs.last_success_at} /><//>
      <${Fact} term="Next run"><${When} at=${jobs.next_run_at} /><//>
      <${Fact} term="Open jobs">${jobs.jobs_open}<//>
      <${Fact} term="Last error">${jobs.last_error || 'none'}<//></dl></article>` : ''}
    ${webhooks ? html`<article class="card" aria-labelledby="flow-webhooks"><h3 id="flow-webhooks">Lever webhooks</h3><dl>
      <${Fact} term="State">${webhooks.state}<//>
      ${webhooks.message ? html`<${Fact} term="What to do">${webhooks.message}<//>` : ''}
      <${Fact} term="Registered"><${When} at=${webhooks.registered_at} /><//>
      <${Fact} term="Last received"><${When} at=${webhooks.last_received_at} /><//>
      ${webhooks.deletions ? html`<${Fact} term="Deletions">${webhooks.deletions.webhook}${webhooks.deletions.missed_by_webhook
        ? `; ${webhooks.deletions.missed_by_webhook} found only by the nightly pass` : ''}<//>
      ${webhooks.deletions.message ? html`<${Fact} term="About deletions">${webhooks.deletions.message}<//>` : ''}` : ''}</dl></article>` : ''}
    ${hires ? html`<article class="card" aria-labelledby="flow-hires"><h3 id="flow-hires">Hires</h3><dl>
      <${Fact} term="Last success"><${When} at=${hires.last_success_at} /><//>
      <${Fact} term="Next run"><${When} at=${hires.next_run_at} /><//>
      <${Fact} term="Last error">${hires.last_error || 'none'}<//></dl></article>` : ''}
    ${Object.entries(others).map(([name, f]) => html`<article class="card" aria-labelledby=${`flow-${name}`}><h3 id=${`flow-${name}`}>${name}</h3><dl>
      <${Fact} term="Last success"><${When} at=${f.last_success_at} /><//>
      <${Fact} term="Last failure"><${When} at=${f.last_failure_at} /><//>
      <${Fact} term="Last error">${f.last_error || 'none'}<//></dl></article>`)}
  </div></section>`;
}

function Activity({ id }) {
  const [cursors, setCursors] = useState([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call('GET', withQuery(`${base(id)}/activity`, { limit: 50, cursor })), [id, cursor]);
  return html`<section aria-labelledby="activity"><h2 id="activity">Activity</h2>
    <${Loading} state=${page}>${() => html`<${SyncTimeline} entries=${page.data.data} />
      <ol class="activity">${page.data.data.map((a) => html`<li key=${a.id} class=${a.ok ? 'ok' : 'failed'}>
        <${When} at=${a.at} /> <span class="kind">${a.kind}</span> <span class="sr-only">${a.ok ? 'succeeded' : 'failed'}</span>
        <span aria-hidden="true">${a.ok ? '✓' : '✗'}</span> ${a.message}</li>`)}</ol>
      <${Pager} cursors=${cursors} next=${page.data.next_cursor} onMove=${setCursors} what="activity" />`}<//>
  </section>`;
}

function CandidateRow({ connection, s, onRetried }) {
  const retry = useAction(() => call('POST', `${base(connection.id)}/candidates/${encodeURIComponent(s.id)}/retry`));
  const who = s.candidate ? [s.candidate.name, ...(s.candidate.emails || []).slice(0, 1)].filter(Boolean).join(' · ') : '';
  const opp = s.lever && s.lever.opportunity_id;
  return html`<tr>
    <td><span class="mono">${s.id}</span><br />${who}</td>
    <td>${s.kind}</td>
    <td><span class=${`state state-${s.state}`}>${s.state}</span> ${s.attempts ? html`<span class="muted">(${s.attempts} attempts)</span>` : ''}</td>
    <td>${opp ? html`<div><a href=${leverOpportunityUrl(connection, opp)} rel="noreferrer" target="_blank">Opportunity ${opp} in Lever</a></div>` : ''}
      ${s.error ? html`<div>${s.error.code}: ${s.error.message}</div>` : ''}${s.stage ? html`<div>Stage: ${s.stage.label || s.stage.name || s.stage.id}</div>` : ''}</td>
    <td><${When} at=${s.updated_at} /></td>
    <td>${s.state === 'failed'
      ? html`<button type="button" disabled=${retry.busy} aria-label=${`Retry submission ${s.id}`}
          onClick=${async () => { if (await retry.run()) onRetried(); }}>Retry</button><${Problem} error=${retry.error} />`
      : ''}</td>
  </tr>`;
}

function Candidates({ connection }) {
  const [cursors, setCursors] = useState([]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call('GET', withQuery(`${base(connection.id)}/candidates`, { limit: 20, cursor })), [connection.id, cursor]);
  return html`<section aria-labelledby="candidates"><h2 id="candidates">Candidates</h2>
    <${Loading} state=${page}>${() => html`<table><caption>Recent submissions</caption>
      <thead><tr>${['Submission', 'Kind', 'State', 'In Lever', 'Updated', 'Action'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${page.data.data.map((s) => html`<${CandidateRow} key=${s.id} connection=${connection} s=${s} onRetried=${page.reload} />`)}</tbody></table>
      <${Pager} cursors=${cursors} next=${page.data.next_cursor} onMove=${setCursors} what="candidates" />`}<//>
  </section>`;
}

function Hires({ id }) {
  const page = useLoad(() => call('GET', withQuery(`${base(id)}/hires`, { limit: 10 })), [id]);
  return html`<section aria-labelledby="hires"><h2 id="hires">Hires</h2>
    <${Loading} state=${page}>${() => html`<table><caption>Recent hires</caption>
      <thead><tr>${['Opportunity', 'Hired', 'Fields sent', 'Missing', 'Sends'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${page.data.data.map((h) => html`<tr key=${h.id}><td class="mono">${h.lever.opportunity_id}</td><td><${When} at=${h.hired_at} /></td>
        <td>${Object.keys(h.fields || {}).join(', ')}</td><td>${(h.missing || []).join(', ') || 'nothing'}</td><td>${h.sends}</td></tr>`)}</tbody></table>`}<//>
  </section>`;
}

function Connect({ connection, onChanged }) {
  const [returnUrl, setReturnUrl] = useState(sessionStorage.getItem('hub-console-return-url') || '');
  const reconnect = useAction(() => call('POST', `${base(connection.id)}/reconnect`, { return_url: returnUrl }));
  const disconnect = useAction(() => call('DELETE', base(connection.id)));
  return html`<section aria-labelledby="connect"><h2 id="connect">Connect</h2>
    ${connection.connect_url ? html`<p>Current connect link: <span class="mono">${connection.connect_url}</span>
      ${connection.expires_at ? html` (expires <${When} at=${connection.expires_at} />)` : ''}</p>` : ''}
    <form class="row" onSubmit=${(e) => { e.preventDefault(); reconnect.run(); }}>
      <${ReturnUrlField} id="reconnect-return-url" value=${returnUrl} onInput=${setReturnUrl} />
      <button type="submit" disabled=${reconnect.busy}>Reconnect</button>
    </form>
    <${Problem} error=${reconnect.error} />
    ${reconnect.result ? html`<${ConnectLink} answer=${reconnect.result} />` : ''}
    ${connection.status !== 'disconnected' ? html`<${Confirm} label="Disconnect" confirmLabel="Yes, disconnect" busy=${disconnect.busy}
      question=${`Disconnect ${connection.id}? The hub stops every flow of this connection and forgets its Lever tokens.`}
      onConfirm=${async () => { if ((await disconnect.run()) !== undefined) onChanged(); }} />` : ''}
    <${Problem} error=${disconnect.error} />
  </section>`;
}

export function ConnectionPage({ id }) {
  const conn = useLoad(() => call('GET', base(id)), [id]);
  return html`<div class="page"><p><a href="#/connections">Connections</a> › <span class="mono">${id}</span></p>
    <h1 tabindex="-1">Connection <span class="mono">${id}</span></h1>
    <${Loading} state=${conn}>${() => {
      const c = conn.data;
      return html`<dl class="facts">
          <${Fact} term="Status">${c.status}<//>
          <${Fact} term="Health"><${HealthBadge} health=${c.health} /> ${healthReason(c)}<//>
          <${Fact} term="Your reference">${reference(c) || '—'}<//>
          <${Fact} term="Lever account"><span class="mono">${(c.lever && c.lever.account_id) || '—'}</span><//>
          <${Fact} term="Environment">${environment(c) || '—'}<//>
          <${Fact} term="Created"><${When} at=${c.created_at} /><//>
        </dl>
        <${Flows} flows=${c.flows} />
        <${Activity} id=${id} />
        <${Candidates} connection=${c} />
        <${Hires} id=${id} />
        <${SettingsEditor} connection=${c} onSaved=${conn.reload} />
        <${Connect} connection=${c} onChanged=${conn.reload} />`;
    }}<//></div>`;
}
