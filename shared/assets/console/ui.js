// Pieces every page of the console uses: loading state, problems shown in words, times, health,
// a value shown once with a copy button, and the two small pictures.
import { html, useState, useEffect, useCallback, useRef } from './htm-preact-3.1.1.standalone.module.js';

export { html };

/** Runs `load` now and whenever `deps` change; answers { data, error, reload }. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => setState({ data: null, error, loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** Runs an action from a button: its pending state, its error, its last answer. */
export function useAction(action) {
  const [state, setState] = useState({ busy: false, error: null, result: null });
  const run = async (...args) => {
    setState({ busy: true, error: null, result: null });
    try {
      const result = await action(...args);
      setState({ busy: false, error: null, result });
      return result;
    } catch (error) {
      setState({ busy: false, error, result: null });
      return undefined;
    }
  };
  return { ...state, run };
}

export function Problem({ error }) {
  if (!error) return null;
  const type = error.problem && error.problem.type;
  return html`<p class="problem" role="alert">${error.message}${type ? html` <a href=${type}>(${type})</a>` : ''}</p>`;
}

/** What a loaded section shows: its problem, a word while loading, or its content. One root
 * element whatever the state, so the page around it keeps its order. */
export function Loading({ state, children }) {
  if (state.error) return html`<div><${Problem} error=${state.error} /></div>`;
  if (state.loading && !state.data) return html`<div><p aria-live="polite">Loading…</p></div>`;
  return html`<div>${children()}</div>`;
}

export function When({ at }) {
  if (!at) return html`<span class="muted">—</span>`;
  const d = new Date(at);
  return html`<time datetime=${at} title=${at}>${d.toLocaleString()}</time>`;
}

const HEALTH_WORDS = { green: 'Healthy', yellow: 'Needs attention', red: 'Not working' };

export function HealthBadge({ health }) {
  return html`<span class=${`badge health-${health}`}><span aria-hidden="true">●</span> ${HEALTH_WORDS[health] || health}</span>`;
}

/** Why a connection is not green, in words: the API's reason, else the first failing flow. */
export function healthReason(c) {
  if (c.status_reason) return c.status_reason;
  const failing = Object.entries(c.flows || {}).find(([, f]) => f && f.last_error);
  if (failing) return `${failing[0]}: ${failing[1].last_error}`;
  if (c.missing_settings && c.missing_settings.length) return `Settings missing: ${c.missing_settings.join(', ')}`;
  if (c.status === 'pending') return 'Waiting for the customer to connect Lever';
  return c.health === 'green' ? 'Every flow is working' : '';
}

/** A secret or link the API shows once: read-only, selectable, with a copy button. */
export function ShownOnce({ label, value, note }) {
  const [copied, setCopied] = useState(false);
  const id = `once-${label.replace(/\W+/g, '-').toLowerCase()}`;
  const copy = () => navigator.clipboard && navigator.clipboard.writeText(value).then(() => setCopied(true), () => setCopied(false));
  return html`<div class="once" role="status">
    <label for=${id}>${label}</label>
    <input id=${id} class="mono" readonly value=${value} onFocus=${(e) => e.target.select()} />
    <button type="button" onClick=${copy}>Copy</button> ${copied ? html`<span>Copied.</span>` : ''}
    <p class="muted">${note || 'Shown once: copy it now.'}</p>
  </div>`;
}

/** A button that asks again before it acts. */
export function Confirm({ label, question, confirmLabel, onConfirm, busy }) {
  const [asking, setAsking] = useState(false);
  // The question takes the focus, so a keyboard user answers it next (Enter or Tab, Enter).
  const answer = useRef(null);
  useEffect(() => {
    if (asking && answer.current) answer.current.focus();
  }, [asking]);
  if (!asking) return html`<button type="button" class="danger" onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<div class="confirm" role="alertdialog" aria-label=${label}>
    <p>${question}</p>
    <button type="button" class="danger" disabled=${busy} onClick=${() => onConfirm().then(() => setAsking(false))}>${confirmLabel}</button>
    <button type="button" ref=${answer} onClick=${() => setAsking(false)}>Cancel</button>
  </div>`;
}

/** Previous/next through the API's cursors; `cursors` is the stack of pages already seen. */
export function Pager({ cursors, next, onMove, what }) {
  return html`<nav class="pager" aria-label=${`Pages of ${what}`}>
    <button type="button" disabled=${cursors.length === 0} onClick=${() => onMove(cursors.slice(0, -1))}>Previous page</button>
    <button type="button" disabled=${!next} onClick=${() => onMove([...cursors, next])}>Next page</button>
  </nav>`;
}

/** A connection's recent sync history: one mark per activity entry, green when it went well. */
export function SyncTimeline({ entries }) {
  if (!entries.length) return html`<p class="muted">No activity yet.</p>`;
  const times = entries.map((e) => Date.parse(e.at));
  const [min, max] = [Math.min(...times), Math.max(...times)];
  const span = Math.max(max - min, 1);
  const failed = entries.filter((e) => !e.ok).length;
  const label = `Sync history: ${entries.length - failed} succeeded and ${failed} failed between ${new Date(min).toLocaleString()} and ${new Date(max).toLocaleString()}`;
  return html`<svg class="timeline" viewBox="0 0 400 40" width="400" height="40" role="img" aria-label=${label}>
    <title>${label}</title>
    <line x1="5" y1="20" x2="395" y2="20" stroke="#6b7280" stroke-width="1" />
    ${entries.map((e, i) => html`<circle cx=${5 + (390 * (times[i] - min)) / span} cy=${e.ok ? 14 : 26} r="4"
      fill=${e.ok ? '#15803d' : '#b91c1c'}><title>${`${e.at} ${e.kind}: ${e.message}`}</title></circle>`)}
  </svg>`;
}

/** The share of finished deliveries that arrived, as a bar. */
export function SuccessRate({ delivered, dead }) {
  const total = delivered + dead;
  if (!total) return html`<p class="muted">No finished deliveries yet.</p>`;
  const pct = Math.round((100 * delivered) / total);
  const label = `${pct}% delivered: ${delivered} delivered, ${dead} dead, of the latest ${total} finished deliveries`;
  return html`<figure class="rate"><svg viewBox="0 0 300 20" width="300" height="20" role="img" aria-label=${label}>
      <rect x="0" y="0" width="300" height="20" fill="#b91c1c" />
      <rect x="0" y="0" width=${(300 * delivered) / total} height="20" fill="#15803d" />
    </svg><figcaption>${label}</figcaption></figure>`;
}
