// The partner API, called with the key the partner signed in with. The key lives in this tab's
// sessionStorage only: closing the tab or signing out forgets it.

const KEY = 'hub-console-api-key';

export const storedKey = () => sessionStorage.getItem(KEY);
export const keep = (key) => sessionStorage.setItem(KEY, key);
export const forget = () => sessionStorage.removeItem(KEY);

/** An answer other than 2xx, with the problem document the API sent. */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `The API answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls the API; answers the JSON body (null when empty) or throws an ApiError. */
export async function call(method, path, body, key = storedKey()) {
  const headers = { accept: 'application/json', authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path.replace(/^\//, ''), document.baseURI), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** A path with its query; empty values are left out. */
export function withQuery(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
