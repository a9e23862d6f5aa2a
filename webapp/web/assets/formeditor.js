// The form editor: the preview (rendered on the server with formrender) follows the two
// textareas as you type. Without JavaScript the "Voorbeeld" button does the same.

import { postForm } from './api.js';
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

  for (const name of ['schema', 'ui_schema']) {
    form.elements[name].addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(update, 400);
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
