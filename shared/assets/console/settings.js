// A connection's settings, with Lever's users and stages to pick from (as the API lists them).
import { useState } from './htm-preact-3.1.1.standalone.module.js';
import { call } from './api.js';
import { html, useLoad, useAction, Problem } from './ui.js';

const TRIGGERS = ['webhook', 'daily', 'on_demand'];

function Picker({ id, label, value, onChange, options, state }) {
  return html`<div class="field"><label for=${id}>${label}</label>
    <select id=${id} value=${value || ''} onChange=${(e) => onChange(e.target.value || null)}>
      <option value="">Not set</option>
      ${value && !options.some((o) => o.id === value) ? html`<option value=${value}>${value}</option>` : ''}
      ${options.map((o) => html`<option value=${o.id}>${o.text}</option>`)}
    </select>${state.error ? html`<${Problem} error=${state.error} />` : ''}</div>`;
}

export function SettingsEditor({ connection, onSaved }) {
  const path = `/v1/connections/${encodeURIComponent(connection.id)}`;
  const active = connection.status === 'active';
  const users = useLoad(() => (active ? call('GET', `${path}/lever/users`) : Promise.resolve({ data: [] })), [connection.id, active]);
  const stages = useLoad(() => (active ? call('GET', `${path}/lever/stages`) : Promise.resolve({ data: [] })), [connection.id, active]);
  const s = connection.settings || {};
  const [draft, setDraft] = useState({
    perform_as: s.perform_as || null,
    default_stage: s.default_stage || null,
    source: s.source || '',
    tags: (s.tags || []).join(', '),
    timezone: s.timezone || '',
    hire_triggers: s.hire_triggers || [],
  });
  const set = (name) => (value) => setDraft({ ...draft, [name]: value });
  // Only what changed is sent: the API merges a PATCH into the settings it has.
  const save = useAction(() => {
    const next = {
      perform_as: draft.perform_as,
      default_stage: draft.default_stage,
      source: draft.source.trim() || null,
      tags: draft.tags.split(',').map((t) => t.trim()).filter(Boolean),
      timezone: draft.timezone.trim() || null,
      hire_triggers: draft.hire_triggers,
    };
    const was = { ...next, perform_as: s.perform_as || null, default_stage: s.default_stage || null, source: s.source || null,
      tags: s.tags || [], timezone: s.timezone || null, hire_triggers: s.hire_triggers || [] };
    const changed = Object.fromEntries(Object.entries(next).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(was[k])));
    return call('PATCH', path, { settings: changed });
  });
  const userOptions = ((users.data && users.data.data) || []).map((u) => ({ id: u.id, text: `${u.name}${u.access_role ? ` (${u.access_role})` : ''}` }));
  const stageOptions = ((stages.data && stages.data.data) || []).map((st) => ({ id: st.id, text: st.text }));
  const toggle = (t) => set('hire_triggers')(draft.hire_triggers.includes(t) ? draft.hire_triggers.filter((x) => x !== t) : [...draft.hire_triggers, t]);
  const submit = async (e) => {
    e.preventDefault();
    if (await save.run()) onSaved();
  };
  return html`<section aria-labelledby="settings"><h2 id="settings">Settings</h2>
    ${connection.missing_settings && connection.missing_settings.length ? html`<p>Missing: ${connection.missing_settings.join(', ')}</p>` : ''}
    <form class="settings" onSubmit=${submit}>
      <${Picker} id="set-perform-as" label="Lever user the hub acts as" value=${draft.perform_as} onChange=${set('perform_as')} options=${userOptions} state=${users} />
      <${Picker} id="set-default-stage" label="Default stage" value=${draft.default_stage} onChange=${set('default_stage')} options=${stageOptions} state=${stages} />
      <div class="field"><label for="set-source">Source</label><input id="set-source" value=${draft.source} onInput=${(e) => set('source')(e.target.value)} /></div>
      <div class="field"><label for="set-tags">Tags (comma separated)</label><input id="set-tags" value=${draft.tags} onInput=${(e) => set('tags')(e.target.value)} /></div>
      <div class="field"><label for="set-timezone">Time zone</label><input id="set-timezone" value=${draft.timezone} placeholder="Europe/Berlin" onInput=${(e) => set('timezone')(e.target.value)} /></div>
      <fieldset><legend>Hires are looked for</legend>${TRIGGERS.map((t) => html`<label class="check"><input type="checkbox"
        checked=${draft.hire_triggers.includes(t)} onChange=${() => toggle(t)} /> ${t.replace('_', ' ')}</label>`)}</fieldset>
      <button type="submit" disabled=${save.busy}>Save settings</button>
      ${save.result ? html`<span role="status">Saved.</span>` : ''}
    </form>
    <${Problem} error=${save.error} />
  </section>`;
}
