// The partner's webhook endpoints (add, rotate a secret, remove) and API keys (create, revoke).
// Secrets and new keys are shown once, as the API answers them once.
import { useState } from './htm-preact-3.1.1.standalone.module.js';
import { call } from './api.js';
import { html, useLoad, useAction, Loading, Problem, When, ShownOnce, Confirm } from './ui.js';

function WebhookRow({ w, onChanged, onSecret }) {
  const rotate = useAction(() => call('POST', `/v1/webhooks/${encodeURIComponent(w.id)}/rotate-secret`, {}));
  const remove = useAction(() => call('DELETE', `/v1/webhooks/${encodeURIComponent(w.id)}`));
  return html`<tr>
    <td class="mono">${w.url}</td><td>${w.event_types ? w.event_types.join(', ') : 'every event'}</td>
    <td><${When} at=${w.secret_rotated_at} />${w.previous_secrets_expire_at ? html`<br />previous secret signs until <${When} at=${w.previous_secrets_expire_at} />` : ''}</td>
    <td><button type="button" disabled=${rotate.busy} aria-label=${`Rotate secret of ${w.url}`}
        onClick=${async () => { const r = await rotate.run(); if (r) onSecret(w.url, r.secret); }}>Rotate secret</button>
      <${Confirm} label="Remove" confirmLabel="Yes, remove" busy=${remove.busy} question=${`Stop sending events to ${w.url}?`}
        onConfirm=${async () => { if ((await remove.run()) !== undefined) onChanged(); }} />
      <${Problem} error=${rotate.error || remove.error} /></td>
  </tr>`;
}

function Webhooks() {
  const list = useLoad(() => call('GET', '/v1/webhooks'), []);
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState(null);
  const add = useAction(() => call('POST', '/v1/webhooks', { url }));
  const submit = async (e) => {
    e.preventDefault();
    const created = await add.run();
    if (created) {
      setSecret({ url: created.url, secret: created.secret });
      setUrl('');
      list.reload();
    }
  };
  return html`<section aria-labelledby="webhooks"><h2 id="webhooks">Webhook endpoints</h2>
    ${secret ? html`<${ShownOnce} label=${`Signing secret for ${secret.url}`} value=${secret.secret} />` : ''}
    <${Loading} state=${list}>${() => html`<table><caption>Where the hub sends your events</caption>
      <thead><tr>${['URL', 'Events', 'Secret last set', 'Actions'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${list.data.data.map((w) => html`<${WebhookRow} key=${w.id} w=${w} onChanged=${list.reload}
        onSecret=${(u, s) => { setSecret({ url: u, secret: s }); list.reload(); }} />`)}</tbody></table>`}<//>
    <form class="row" onSubmit=${submit}>
      <label for="new-webhook-url">Endpoint URL (https)</label>
      <input id="new-webhook-url" type="url" required value=${url} onInput=${(e) => setUrl(e.target.value)} />
      <button type="submit" disabled=${add.busy}>Add endpoint</button>
    </form>
    <${Problem} error=${add.error} />
  </section>`;
}

function Keys() {
  const list = useLoad(() => call('GET', '/v1/api-keys'), []);
  const [label, setLabel] = useState('');
  const [created, setCreated] = useState(null);
  const [revokeError, setRevokeError] = useState(null);
  const create = useAction(() => call('POST', '/v1/api-keys', { label: label.trim() || null }));
  const submit = async (e) => {
    e.preventDefault();
    const key = await create.run();
    if (key) {
      setCreated(key);
      setLabel('');
      list.reload();
    }
  };
  const revoke = async (id) => {
    setRevokeError(null);
    try {
      await call('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`);
      list.reload();
    } catch (err) {
      setRevokeError(err);
    }
  };
  return html`<section aria-labelledby="keys"><h2 id="keys">API keys</h2>
    ${created ? html`<${ShownOnce} label=${`New API key ${created.label || created.id}`} value=${created.key} />` : ''}
    <${Loading} state=${list}>${() => {
      const only = list.data.data.length <= 1;
      return html`<table><caption>Keys that can call the API${only ? ' (the last key cannot be revoked)' : ''}</caption>
        <thead><tr>${['Key', 'Label', 'Created', 'Action'].map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
        <tbody>${list.data.data.map((k) => html`<tr key=${k.id}><td class="mono">${k.id}</td><td>${k.label || '—'}</td><td><${When} at=${k.created_at} /></td>
          <td><${Confirm} label=${only ? 'Revoke (last key)' : 'Revoke'} confirmLabel="Yes, revoke" busy=${only}
            question=${only ? 'This is your last key: create another one before revoking it.' : `Revoke ${k.id}? Calls with it stop working at once.`}
            onConfirm=${() => revoke(k.id)} /></td></tr>`)}</tbody></table>`;
    }}<//>
    <${Problem} error=${revokeError} />
    <form class="row" onSubmit=${submit}>
      <label for="new-key-label">Label</label>
      <input id="new-key-label" maxlength="100" value=${label} onInput=${(e) => setLabel(e.target.value)} />
      <button type="submit" disabled=${create.busy}>Create API key</button>
    </form>
    <${Problem} error=${create.error} />
  </section>`;
}

export function WebhooksAndKeys() {
  return html`<div class="page"><h1 tabindex="-1">Webhooks and keys</h1>
    <p>There is no test event in the API yet: replay an event from <a href="#/deliveries">Deliveries</a> to send one again.</p>
    <${Webhooks} /><${Keys} /></div>`;
}
