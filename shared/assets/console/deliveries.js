// Deliveries of events to the partner's endpoints: dead, pending or delivered, each with its
// attempts and the endpoint's last answer; replaying an event sends it again.
import { useState } from './htm-preact-3.1.1.standalone.module.js';
import { call, withQuery } from './api.js';
import { html, useLoad, useAction, Loading, Pager, Problem, When, SuccessRate } from './ui.js';

function lastAnswer(d) {
  const parts = [d.last_status_code ? `HTTP ${d.last_status_code}` : null, d.last_error].filter(Boolean);
  return parts.length ? parts.join(': ') : '—';
}

function Row({ d, onReplayed }) {
  const replay = useAction(() => call('POST', `/v1/events/${encodeURIComponent(d.event_id)}/replay`));
  return html`<tr>
    <td class="mono">${d.event_id}</td><td>${d.event_type}</td><td>${d.status}</td><td>${d.attempts}</td>
    <td>${lastAnswer(d)}</td><td><${When} at=${d.created_at} /></td><td><${When} at=${d.delivered_at} /></td>
    <td><button type="button" disabled=${replay.busy} aria-label=${`Replay event ${d.event_id}`}
      onClick=${async () => { const r = await replay.run(); if (r) onReplayed(d.event_id, r.data.length); }}>Replay</button>
      <${Problem} error=${replay.error} /></td>
  </tr>`;
}

/** The share delivered among the latest finished deliveries (a page of each). */
function Rate() {
  const counts = useLoad(async () => {
    const [delivered, dead] = await Promise.all(['delivered', 'dead'].map((status) => call('GET', withQuery('/v1/deliveries', { status, limit: 100 }))));
    return { delivered: delivered.data.length, dead: dead.data.length };
  }, []);
  return html`<section aria-labelledby="rate"><h2 id="rate">Success rate</h2>
    <${Loading} state=${counts}>${() => html`<${SuccessRate} delivered=${counts.data.delivered} dead=${counts.data.dead} />`}<//></section>`;
}

export function Deliveries() {
  const [status, setStatus] = useState('dead');
  const [cursors, setCursors] = useState([]);
  const [replayed, setReplayed] = useState(null);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call('GET', withQuery('/v1/deliveries', { status, limit: 25, cursor })), [status, cursor]);
  const choose = (e) => {
    setStatus(e.target.value);
    setCursors([]);
  };
  return html`<div class="page"><h1 tabindex="-1">Deliveries</h1>
    <${Rate} />
    <section aria-labelledby="list"><h2 id="list">${status[0].toUpperCase() + status.slice(1)} deliveries</h2>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label for="d-status">Show</label>
      <select id="d-status" value=${status} onChange=${choose}>
        <option value="dead">dead</option><option value="pending">pending</option><option value="delivered">delivered</option>
      </select>
    </form>
    ${replayed ? html`<p role="status">Event <span class="mono">${replayed.id}</span> replayed: ${replayed.n} ${replayed.n === 1 ? 'delivery' : 'deliveries'} started again.</p>` : ''}
    <${Loading} state=${page}>${() => html`<table><caption>${page.data.data.length} ${status} deliveries on this page</caption>
      <thead><tr>${['Event', 'Type', 'Status', 'Attempts', 'Last answer', 'Created', 'Delivered', 'Action'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${page.data.data.map((d) => html`<${Row} key=${`${d.event_id}-${d.webhook_id}`} d=${d}
        onReplayed=${(id, n) => { setReplayed({ id, n }); page.reload(); }} />`)}</tbody></table>
      <${Pager} cursors=${cursors} next=${page.data.next_cursor} onMove=${setCursors} what="deliveries" />`}<//>
    </section></div>`;
}
