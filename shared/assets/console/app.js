// The console's shell: signing in and out, the navigation, and routing by the URL's hash so the
// back button and bookmarks work (#/connections, #/connections/{id}, #/deliveries, #/webhooks).
import { render, useState, useEffect, useRef } from './htm-preact-3.1.1.standalone.module.js';
import { call, storedKey, keep, forget, ApiError } from './api.js';
import { html, Problem } from './ui.js';
import { Connections } from './connections.js';
import { ConnectionPage } from './connection.js';
import { Deliveries } from './deliveries.js';
import { WebhooksAndKeys } from './keys.js';

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/connections');
  useEffect(() => {
    const onChange = () => setHash(location.hash || '#/connections');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function SignIn({ onSignedIn }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      const profile = await call('GET', '/v1/profile', undefined, key.trim());
      keep(key.trim());
      onSignedIn(profile);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? new Error('The API does not know this key.') : err);
    }
    setBusy(false);
  };
  return html`<main id="main"><h1 tabindex="-1">Partner console</h1>
    <p>Sign in with one of your API keys. The key stays in this browser tab and is forgotten when you sign out or close it.</p>
    <form class="signin" onSubmit=${submit}>
      <label for="api-key">API key</label>
      <input id="api-key" type="password" autocomplete="off" required value=${key} onInput=${(e) => setKey(e.target.value)} />
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    <${Problem} error=${error} />
  </main>`;
}

const PAGES = [
  ['#/connections', 'Connections'],
  ['#/deliveries', 'Deliveries'],
  ['#/webhooks', 'Webhooks and keys'],
];

function Page({ hash }) {
  const connection = hash.match(/^#\/connections\/([^/?]+)/);
  if (connection) return html`<${ConnectionPage} id=${decodeURIComponent(connection[1])} />`;
  if (hash.startsWith('#/deliveries')) return html`<${Deliveries} />`;
  if (hash.startsWith('#/webhooks')) return html`<${WebhooksAndKeys} />`;
  return html`<${Connections} />`;
}

function App() {
  const [profile, setProfile] = useState(null);
  const [checking, setChecking] = useState(Boolean(storedKey()));
  const hash = useHash();
  const main = useRef(null);
  useEffect(() => {
    if (!storedKey()) return;
    call('GET', '/v1/profile').then(setProfile, () => forget()).finally(() => setChecking(false));
  }, []);
  // A new page takes the focus, so keyboard and screen reader users start at its heading.
  useEffect(() => {
    const heading = main.current && main.current.querySelector('h1');
    if (heading) heading.focus();
  }, [hash, profile]);
  if (checking) return html`<main id="main"><h1 tabindex="-1">Partner console</h1><p>Signing in…</p></main>`;
  if (!profile) return html`<${SignIn} onSignedIn=${setProfile} />`;
  const signOut = () => {
    forget();
    setProfile(null);
  };
  return html`<div>
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); main.current.querySelector('h1').focus(); }}>Skip to content</a>
    <header><span class="brand">Lever integration hub · ${profile.display_name}</span>
      <nav aria-label="Console"><ul>${PAGES.map(([href, label]) => html`<li><a href=${href}
        aria-current=${hash.startsWith(href) ? 'page' : undefined}>${label}</a></li>`)}</ul></nav>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" ref=${main}><${Page} key=${hash.split('?')[0]} hash=${hash} /></main>
  </div>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
