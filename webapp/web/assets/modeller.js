// The modeller page: bpmn-js Modeler with the spiffworkflow extension typed (so it survives
// a round trip untouched), our side panel, and the buttons that talk to the server:
// save a draft, check, publish (deploy). Built by esbuild into static/build/modeller.js.

import Modeler from 'bpmn-js/lib/Modeler';

import { h, postJSON } from './api.js';
import { dutchModule } from './nl.js';
import { SidePanel } from './panel.js';
import spiffworkflow from './spiffworkflow-moddle.json';
import './modeller.css';

const MARKER = 'probleem';

function byId(id) {
  return document.getElementById(id);
}

function status(text, kind = 'info') {
  const box = byId('modeller-status');
  box.className = `modeller-status ${kind}`;
  box.textContent = text;
  box.hidden = !text;
}

function time() {
  return new Date().toLocaleTimeString('nl-NL', { hour: '2-digit', minute: '2-digit' });
}

/** The whole diagram in view, clear of the palette on the left. */
function fit(canvas) {
  canvas.zoom('fit-viewport', 'auto');
  const box = canvas.viewbox();
  if (!Number.isFinite(box.scale) || box.scale <= 0 || !box.inner.width) {
    return; // an empty diagram
  }
  const pad = 150 / box.scale;
  canvas.viewbox({ x: box.x - pad, y: box.y - pad / 4, width: box.width + pad * 1.25, height: box.height + pad / 2 });
}

function newModeler(container) {
  return new Modeler({
    container,
    moddleExtensions: { spiffworkflow },
    additionalModules: [dutchModule]
  });
}

/** Import and export without touching the page's diagram (used by the round-trip test). */
async function roundTrip(xml) {
  const holder = h('div', { class: 'modeller-buiten-beeld' });
  document.body.append(holder);
  const modeler = newModeler(holder);
  try {
    const { warnings } = await modeler.importXML(xml);
    const { xml: out } = await modeler.saveXML({ format: true });
    return { xml: out, warnings: warnings.map((w) => w.message) };
  } finally {
    modeler.destroy();
    holder.remove();
  }
}

function start() {
  const data = JSON.parse(byId('modeller-gegevens').textContent);
  const modeler = newModeler('#canvas');
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  const selection = modeler.get('selection');
  const panel = new SidePanel(byId('paneel'), modeler, data);
  const state = { draftId: data.source.kind === 'concept' ? data.source.id : null, dirty: false, blocked: null, problems: [] };

  window.klachtroute = { modeler, panel, roundTrip, state };

  // A changed element's problems may be solved: its marker goes, its list entry says so.
  modeler.get('eventBus').on('elements.changed', ({ elements }) => {
    const ids = new Set(elements.map((e) => e.id));
    let touched = false;
    for (const problem of state.problems) {
      const shape = shapeFor(problem.element_id);
      if (shape && !problem.stale && ids.has(shape.id)) {
        problem.stale = true;
        touched = true;
        canvas.removeMarker(shape, MARKER);
        for (const item of document.querySelectorAll(`#probleemlijst li[data-element-id="${CSS.escape(problem.element_id)}"]`)) {
          if (!item.classList.contains('verouderd')) {
            item.classList.add('verouderd');
            item.append(h('span', { class: 'klein' }, ' (aangepast: controleer opnieuw)'));
          }
        }
      }
    }
    if (touched) {
      panel.setProblems(state.problems.filter((p) => !p.stale));
      if (state.problems.every((p) => p.stale || !shapeFor(p.element_id))) {
        status('De gevonden problemen zijn aangepast. Controleer opnieuw, of publiceer.');
      }
    }
  });

  modeler.get('eventBus').on('commandStack.changed', () => {
    state.dirty = true;
    byId('modeller-bewaard').textContent = 'Niet opgeslagen wijzigingen';
  });
  window.addEventListener('beforeunload', (event) => {
    if (state.dirty) {
      event.preventDefault();
      event.returnValue = '';
    }
  });

  function markSaved(text) {
    state.dirty = false;
    byId('modeller-bewaard').textContent = text;
  }

  async function exportXML() {
    const { xml } = await modeler.saveXML({ format: true });
    return xml;
  }

  // -- problems: a list under the canvas, a red marker on each element, details in the panel --

  function shapeFor(id) {
    if (!id) {
      return null;
    }
    const direct = registry.get(id);
    if (direct) {
      return direct;
    }
    // A problem in an event definition or an expression belongs to its element.
    return registry.find((e) => {
      const bo = e.businessObject;
      return bo && (bo.eventDefinitions || []).some((d) => d.id === id);
    }) || null;
  }

  function focusElement(shape) {
    if (!shape) {
      return;
    }
    try {
      // In the middle of the view, clear of the palette on the left.
      const box = canvas.viewbox();
      if (shape.x === undefined) {
        canvas.scrollToElement(shape, { top: 120, bottom: 120, left: 120, right: 120 });
      } else {
        canvas.viewbox({ x: shape.x + shape.width / 2 - box.width / 2, y: shape.y + shape.height / 2 - box.height / 2,
          width: box.width, height: box.height });
      }
    } catch (e) {
      // an element on another plane: selecting it still shows it in the panel
    }
    selection.select(shape);
  }

  function clearMarkers() {
    for (const problem of state.problems) {
      const shape = shapeFor(problem.element_id);
      if (shape) {
        canvas.removeMarker(shape, MARKER);
      }
    }
  }

  function count(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  // One line per cause: problems with the same message form a group, its elements listed beside it.
  function groupProblems(problems) {
    const groups = new Map();
    for (const problem of problems) {
      const key = problem.scenario ? `scenario:${problem.message}` : problem.message;
      if (!groups.has(key)) {
        groups.set(key, { message: problem.message, scenario: problem.scenario, problems: [] });
      }
      const group = groups.get(key);
      // bpmnlint and our own check may say the same of one element: list it once.
      if (!problem.element_id || !group.problems.some((p) => p.element_id === problem.element_id)) {
        group.problems.push(problem);
      }
    }
    return [...groups.values()];
  }

  function elementLabel(problem) {
    const where = [problem.element_name, problem.element_id ? `(${problem.element_id})` : null].filter(Boolean).join(' ');
    return [where, problem.line && !problem.element_id ? `regel ${problem.line}` : null].filter(Boolean).join(', ')
      || problem.file || 'Diagram';
  }

  function elementButton(problem) {
    const shape = shapeFor(problem.element_id);
    if (!shape) {
      return h('span', { class: 'probleem-waar' }, elementLabel(problem));
    }
    canvas.addMarker(shape, MARKER);
    return h('button', { type: 'button', class: 'probleem-knop', onclick: () => focusElement(shape) },
      h('span', { class: 'probleem-waar' }, elementLabel(problem)));
  }

  function groupItem(group) {
    const n = group.problems.length;
    const single = n === 1 ? group.problems[0] : null;
    const attrs = { class: group.scenario ? 'probleem-groep scenario' : 'probleem-groep' };
    if (single) {
      attrs['data-element-id'] = single.element_id || '';
      return h('li', attrs, elementButton(single), ' ', h('span', { class: 'probleem-tekst' }, group.message));
    }
    return h('li', attrs,
      h('span', { class: 'probleem-tekst' }, group.message),
      ' ', h('span', { class: 'probleem-aantal' }, `(${count(n, 'keer', 'keer')})`),
      h('ul', { class: 'probleem-elementen' }, group.problems.map((p) =>
        h('li', { 'data-element-id': p.element_id || '' }, elementButton(p)))));
  }

  function showProblems(problems, heading) {
    clearMarkers();
    state.problems = problems;
    const box = byId('controle-uitkomst');
    if (!problems.length) {
      box.replaceChildren(h('p', { class: 'controle-goed' }, heading || 'Geen problemen gevonden.'));
      panel.setProblems([]);
      return;
    }
    const groups = groupProblems(problems);
    const summary = groups.length === problems.length
      ? count(problems.length, 'probleem', 'problemen')
      : `${count(problems.length, 'probleem', 'problemen')}, ${count(groups.length, 'oorzaak', 'oorzaken')}`;
    box.replaceChildren(
      h('p', { class: 'controle-fout' }, heading || `${summary}. Klik op een element om het in het diagram te zien.`),
      h('ol', { class: 'probleemlijst', id: 'probleemlijst' }, groups.map(groupItem)));
    panel.setProblems(problems);
  }

  // -- opening ---------------------------------------------------------------------------

  async function open(xml) {
    let warnings = [];
    try {
      ({ warnings } = await modeler.importXML(xml));
    } catch (err) {
      state.blocked = 'Het diagram kan niet worden geopend.';
      status(`Het diagram kan niet worden geopend: ${err.message}`, 'fout');
      return;
    }
    fit(canvas);
    const lost = warnings.filter((w) => /unparsable content|unresolved reference/.test(w.message));
    if (lost.length) {
      state.blocked = 'Dit diagram bevat onderdelen die de modeller niet kent; opslaan of publiceren zou ze verliezen.';
      status(`${state.blocked} Bewerk het in een andere modeller, of vraag de beheerder. (${lost.map((w) => w.message.split('\n')[0]).join('; ')})`, 'fout');
    } else if (data.layout_generated) {
      status('Dit diagram had geen opmaak (BPMN DI). Klachtroute heeft de elementen automatisch neergezet; controleer de indeling en sla op.', 'waarschuwing');
    }
    markSaved(data.source.saved_text || '');
  }

  function refuseWhenBlocked() {
    if (state.blocked) {
      status(state.blocked, 'fout');
      return true;
    }
    return false;
  }

  // -- buttons -----------------------------------------------------------------------------

  async function save() {
    if (refuseWhenBlocked()) {
      return;
    }
    status('Concept opslaan…');
    const result = await postJSON(data.urls.save, { xml: await exportXML(), concept: state.draftId });
    if (!result.ok) {
      status(result.data.message || 'Het concept is niet opgeslagen.', 'fout');
      return;
    }
    state.draftId = result.data.concept_id;
    if (result.data.url) {
      history.replaceState(null, '', result.data.url);
    }
    if (result.data.download_url) {
      byId('knop-downloaden').setAttribute('href', result.data.download_url);
    }
    markSaved(`Concept ${state.draftId} opgeslagen om ${time()}`);
    status(`Concept ${state.draftId} is opgeslagen om ${time()}.`, 'goed');
  }

  async function check() {
    if (refuseWhenBlocked()) {
      return;
    }
    status('Controleren…');
    const result = await postJSON(data.urls.check, { xml: await exportXML(), concept: state.draftId });
    if (!result.ok && !result.data.problems) {
      status(result.data.message || 'De controle is mislukt.', 'fout');
      return;
    }
    const problems = result.data.problems || [];
    showProblems(problems, problems.length ? null : 'Geen problemen gevonden: dit ontwerp kan worden gepubliceerd.');
    status(problems.length ? `De controle vond ${problems.length} ${problems.length === 1 ? 'probleem' : 'problemen'}.` : 'Geen problemen gevonden.',
      problems.length ? 'fout' : 'goed');
  }

  function changeList(changes) {
    const groups = [['added', 'Toegevoegd'], ['removed', 'Verwijderd'], ['changed', 'Gewijzigd']];
    const items = [];
    for (const [key, label] of groups) {
      for (const change of (changes && changes[key]) || []) {
        const text = typeof change === 'string' ? change
          : [change.name, change.id ? `(${change.id})` : null, change.what || change.detail || null].filter(Boolean).join(' ');
        items.push(h('li', {}, h('strong', {}, `${label}: `), text));
      }
    }
    return items.length ? h('ul', { class: 'wijzigingen' }, items) : h('p', {}, 'Geen inhoudelijke wijzigingen.');
  }

  async function deploy() {
    if (refuseWhenBlocked()) {
      return;
    }
    const note = byId('publiceren-notitie');
    if (!note.value.trim()) {
      status('Schrijf kort op wat er verandert; dat komt in de versiegeschiedenis.', 'fout');
      note.focus();
      return;
    }
    if (!await confirmPublish()) {
      status('Niet gepubliceerd.');
      return;
    }
    status('Publiceren…');
    const result = await postJSON(data.urls.deploy, { xml: await exportXML(), note: note.value.trim(), concept: state.draftId });
    const outcome = byId('publicatie-uitkomst');
    if (result.status === 422 && result.data.problems) {
      showProblems(result.data.problems, `Niet gepubliceerd: los eerst ${result.data.problems.length === 1 ? 'dit probleem' : `deze ${result.data.problems.length} problemen`} op.`);
      status(`Niet gepubliceerd: de controle vond ${result.data.problems.length} ${result.data.problems.length === 1 ? 'probleem' : 'problemen'}.`, 'fout');
      outcome.replaceChildren();
      byId('controle').scrollIntoView({ block: 'nearest' });
      return;
    }
    if (!result.ok) {
      status(result.data.message || 'Publiceren is mislukt.', 'fout');
      return;
    }
    const d = result.data;
    showProblems([], 'Geen problemen.');
    state.draftId = null;
    note.value = '';
    markSaved(`Versie ${d.version} gepubliceerd om ${time()}`);
    history.replaceState(null, '', data.urls.page);
    byId('knop-downloaden').setAttribute('href', data.urls.download);
    byId('modeller-bron').textContent = `Versie ${d.version} (in gebruik)`;
    status(d.unchanged ? `Er was niets veranderd: versie ${d.version} blijft in gebruik.` : `Versie ${d.version} is gepubliceerd. Nieuwe klachten volgen deze versie.`, 'goed');
    outcome.replaceChildren(
      h('h2', {}, `Versie ${d.version} gepubliceerd`),
      changeList(d.changes),
      h('p', {},
        'Lopende klachten blijven op hun eigen versie. ',
        d.migration_url ? h('a', { href: d.migration_url }, 'Bekijk welke lopende klachten naar deze versie kunnen') : null,
        ' · ', h('a', { href: data.urls.versions }, 'Alle versies')));
    outcome.hidden = false;
  }

  // A dialog, not window.confirm: it says what will happen and can be read by a screen reader.
  function confirmPublish() {
    const dialog = byId('publiceren-bevestigen');
    const running = Number(data.running_complaints || 0);
    byId('publiceren-lopend').textContent = running
      ? `${count(running, 'lopende klacht blijft', 'lopende klachten blijven')} op de versie waarop zij ${running === 1 ? 'begon' : 'begonnen'}. U kunt ${running === 1 ? 'haar' : 'ze'} daarna op de migratiepagina naar de nieuwe versie verplaatsen.`
      : 'Er lopen nu geen klachten; de nieuwe versie geldt meteen voor alles wat binnenkomt.';
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'publiceren'), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  async function exportFile() {
    const xml = await exportXML();
    const link = h('a', { href: URL.createObjectURL(new Blob([xml], { type: 'application/xml' })), download: data.download_name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  // One request at a time: the buttons wait while the server works (a check runs the scenarios).
  const buttons = ['knop-opslaan', 'knop-controleren', 'knop-publiceren'].map(byId);
  function busy(action) {
    return async (event) => {
      if (event) {
        event.preventDefault();
      }
      if (state.busy) {
        return;
      }
      state.busy = true;
      buttons.forEach((b) => b.setAttribute('aria-disabled', 'true'));
      try {
        await action(event);
      } finally {
        state.busy = false;
        buttons.forEach((b) => b.removeAttribute('aria-disabled'));
      }
    };
  }

  byId('knop-opslaan').addEventListener('click', busy(save));
  byId('knop-controleren').addEventListener('click', busy(check));
  byId('publiceren-form').addEventListener('submit', busy(deploy));
  byId('knop-exporteren').addEventListener('click', exportFile);
  byId('knop-passend').addEventListener('click', () => fit(canvas));
  byId('knop-inzoomen').addEventListener('click', () => canvas.zoom(canvas.zoom() * 1.2));
  byId('knop-uitzoomen').addEventListener('click', () => canvas.zoom(canvas.zoom() / 1.2));
  // Ctrl+S saves a draft, as people expect.
  document.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 's') {
      event.preventDefault();
      busy(save)();
    }
  });

  open(data.xml).then(() => {
    document.body.dataset.modeller = 'klaar';
  });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
