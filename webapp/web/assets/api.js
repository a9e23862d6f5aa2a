// Requests to the Klachtroute server: same-origin, the session cookie, and the CSRF token
// of the page (meta tag) in the X-CSRFToken header on every POST.

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute('content') : '';
}

async function answer(response) {
  let data = {};
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('application/json')) {
    try {
      data = await response.json();
    } catch (e) {
      data = {};
    }
  } else if (!response.ok) {
    data = { message: `De server antwoordde met foutcode ${response.status}.` };
  }
  return { ok: response.ok, status: response.status, data };
}

export async function postJSON(url, body) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRFToken': csrfToken()
      },
      body: JSON.stringify(body)
    });
    return answer(response);
  } catch (e) {
    return { ok: false, status: 0, data: { message: 'De server is niet bereikbaar. Controleer uw verbinding en probeer het opnieuw.' } };
  }
}

export async function postForm(url, formData) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json', 'X-CSRFToken': csrfToken() },
      body: formData
    });
    return answer(response);
  } catch (e) {
    return { ok: false, status: 0, data: { message: 'De server is niet bereikbaar.' } };
  }
}

/** A DOM element: h('p', {class: 'x', onclick: fn}, 'text', child, ...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'value') {
      el.value = value;
    } else if (key === 'checked' || key === 'selected' || key === 'disabled') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
