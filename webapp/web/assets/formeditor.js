// The form editor: the field builder writes the two textareas, and the preview (rendered on
// the server with formrender) follows them as you type. Without JavaScript the "Voorbeeld"
// button does the same and the textareas are the editor.

import { postForm } from './api.js';
import { startBuilder } from './formbuilder.js';
import './modeller.css';

function start() {
  const form = document.getElementById('formulier-editor');
  if (!form) {
    return;
  }
  const preview = document.getElementById('voorbeeld');
  const problems = document.getElementById('editor-problemen');
  const url = form.dataset.voorbeeldUrl;
  let timer = null;
  let sequence = 0;

  async function update() {
    const mine = ++sequence;
    const body = new FormData();
    body.append('schema', form.elements.schema.value);
    body.append('ui_schema', form.elements.ui_schema.value);
    const result = await postForm(url, body);
    if (mine !== sequence) {
      return; // a newer request is on its way
    }
    if (typeof result.data.html === 'string') {
      preview.innerHTML = result.data.html;
    }
    if (typeof result.data.problems_html === 'string') {
      problems.innerHTML = result.data.problems_html;
    }
    form.dataset.voorbeeld = String(mine);
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  }

  let builder = null;
  const container = document.getElementById('veldenbouwer');
  if (container) {
    builder = startBuilder({ container, schemaArea: form.elements.schema, uiArea: form.elements.ui_schema,
      changed: later });
    // The builder speaks for the form; the JSON stays one click away (and open when it is not valid).
    const json = document.getElementById('json-weergave');
    if (json && !container.classList.contains('bouwer-uit')) {
      json.open = false;
    }
  }
  let reread = null;
  for (const name of ['schema', 'ui_schema']) {
    // Typed JSON: the builder reads it again once the typing pauses.
    form.elements[name].addEventListener('input', () => {
      later();
      if (builder) {
        clearTimeout(reread);
        reread = setTimeout(builder.reload, 400);
      }
    });
  }
  // With JavaScript the preview is live; the button stays for those who want it now.
  const button = document.getElementById('knop-voorbeeld');
  if (button) {
    button.addEventListener('click', (event) => {
      event.preventDefault();
      clearTimeout(timer);
      update();
    });
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
