// Comparing two versions of a procedure: both diagrams drawn with bpmn-js (NavigatedViewer),
// the semantic diff computed with bpmn-js-differ on the two documents read by bpmn-moddle.
// Added elements are green in the new diagram, removed ones red in the old one, changed ones
// orange in both; elements only drawn differently get a dotted orange outline. The list below
// names every change in Dutch. Data comes from the page's JSON block (strict CSP: no inline
// script). Built by esbuild into static/build/versiondiff.js.

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { diff } from 'bpmn-js-differ';
import { BpmnModdle } from 'bpmn-moddle';

import { h } from './api.js';
import spiffworkflow from './spiffworkflow-moddle.json';
import './versiondiff.css';

const MARKERS = { added: 'diff-toegevoegd', removed: 'diff-verwijderd', changed: 'diff-gewijzigd', layout: 'diff-verplaatst' };
const BADGES = { added: 'nieuw', removed: 'weg', changed: 'gewijzigd' };
const HEADINGS = { added: 'Toegevoegd', removed: 'Verwijderd', changed: 'Gewijzigd' };
const TYPES = {
  UserTask: 'gebruikerstaak', ServiceTask: 'servicetaak', Task: 'taak', ScriptTask: 'scripttaak', ManualTask: 'handmatige taak',
  SendTask: 'verzendtaak', ReceiveTask: 'ontvangsttaak', BusinessRuleTask: 'beslistaak', StartEvent: 'start', EndEvent: 'einde',
  BoundaryEvent: 'randgebeurtenis', IntermediateCatchEvent: 'tussengebeurtenis', IntermediateThrowEvent: 'tussengebeurtenis',
  ExclusiveGateway: 'gateway', ParallelGateway: 'parallelle gateway', InclusiveGateway: 'gateway', EventBasedGateway: 'gateway',
  SequenceFlow: 'pijl', MessageFlow: 'berichtpijl', Lane: 'lane', Participant: 'pool', Process: 'proces', Message: 'bericht',
  CallActivity: 'aanroep', SubProcess: 'subproces', TextAnnotation: 'notitie', Association: 'verbinding', Signal: 'signaal',
  Error: 'fout', Escalation: 'escalatie', DataObjectReference: 'gegevens', DataStoreReference: 'gegevensopslag'
};
// The server's aspects (webapp.runtime.deploy.compare_diagrams), where it knows the element.
const ASPECTS = {
  name: 'naam', type: 'soort', lane: 'lane', attributes: 'eigenschappen', extensions: 'formulier, operator of instructies',
  expressions: 'voorwaarden of termijnen', content: 'inhoud'
};
// Types that are part of another element or not shown as such: never listed on their own.
const SKIPPED = new Set(['Definitions', 'Collaboration', 'LaneSet', 'ExtensionElements', 'Documentation', 'FormalExpression']);

function byId(id) {
  return document.getElementById(id);
}

function localType(element) {
  return (element && element.$type || '').replace(/^bpmn:/, '');
}

/** bpmn-js's Modeler shows an exclusive gateway's X when the file says nothing, and writes
 * isMarkerVisible="true" on export: the same drawing, so both documents get it before diffing. */
function markersAsDrawn(definitions) {
  for (const diagram of definitions.diagrams || []) {
    for (const shape of (diagram.plane && diagram.plane.planeElement) || []) {
      if (shape.$type === 'bpmndi:BPMNShape' && localType(shape.bpmnElement) === 'ExclusiveGateway'
          && shape.isMarkerVisible === undefined) {
        shape.isMarkerVisible = true;
      }
    }
  }
}

async function read(xml) {
  const moddle = new BpmnModdle({ spiffworkflow });
  const { rootElement, elementsById } = await moddle.fromXML(xml);
  markersAsDrawn(rootElement);
  return { definitions: rootElement, byId: elementsById };
}

/** {added, removed, changed, layout}: ids per kind, an element in one kind only. */
export function differences(oldRead, newRead) {
  const result = diff(oldRead.definitions, newRead.definitions);
  const keep = (ids) => ids.filter((id) => {
    const element = newRead.byId[id] || oldRead.byId[id];
    return element && localType(element) && !SKIPPED.has(localType(element)) && !element.$type.startsWith('bpmndi:');
  });
  const added = keep(Object.keys(result._added));
  const removed = keep(Object.keys(result._removed));
  const changed = keep(Object.keys(result._changed));
  const seen = new Set([...added, ...removed, ...changed]);
  const layout = keep(Object.keys(result._layoutChanged)).filter((id) => !seen.has(id));
  return { added, removed, changed, layout };
}

function describe(element) {
  const type = TYPES[localType(element)] || localType(element);
  const name = (element.name || '').trim();
  return { name: name || element.id, extra: name ? `${type}, ${element.id}` : type };
}

function mark(viewer, id, kind) {
  const registry = viewer.get('elementRegistry');
  const shape = registry.get(id);
  if (!shape) {
    return false;
  }
  viewer.get('canvas').addMarker(shape, MARKERS[kind]);
  if (BADGES[kind] && !shape.waypoints && shape.type !== 'label') {
    viewer.get('overlays').add(shape, 'verschil', {
      position: { top: -10, right: 10 },
      html: h('span', { class: `verschil-badge ${kind === 'added' ? 'toegevoegd' : kind === 'removed' ? 'verwijderd' : 'gewijzigd'}` },
        BADGES[kind])
    });
  }
  return true;
}

function focus(viewer, id) {
  const shape = viewer.get('elementRegistry').get(id);
  if (!shape) {
    return;
  }
  const canvas = viewer.get('canvas');
  canvas.scrollToElement(shape);
  for (const other of viewer.get('elementRegistry').filter((e) => canvas.hasMarker(e, 'diff-focus'))) {
    canvas.removeMarker(other, 'diff-focus');
  }
  canvas.addMarker(shape, 'diff-focus');
  canvas.getContainer().scrollIntoView({ block: 'nearest' });
}

function changeText(id, element, oldElement, aspects) {
  const parts = [];
  const oldName = ((oldElement && oldElement.name) || '').trim();
  const newName = ((element && element.name) || '').trim();
  if (oldName !== newName) {
    parts.push(`naam: ‘${oldName || '(geen)'}’ → ‘${newName || '(geen)'}’`);
  }
  for (const aspect of aspects[id] || []) {
    if (aspect !== 'name') {
      parts.push(ASPECTS[aspect] || aspect);
    }
  }
  return parts.length ? parts.join('; ') : 'eigenschappen';
}

function list(found, oldRead, newRead, viewers, aspects) {
  const box = byId('verschil-lijst');
  box.replaceChildren();
  const total = found.added.length + found.removed.length + found.changed.length;
  if (!total) {
    box.append(h('p', { class: 'leeg' }, found.layout.length
      ? 'Geen inhoudelijke verschillen: alleen de tekening is anders.'
      : 'Geen verschillen in het diagram.'));
  }
  for (const kind of ['added', 'removed', 'changed']) {
    if (!found[kind].length) {
      continue;
    }
    const items = found[kind].map((id) => {
      const element = kind === 'removed' ? oldRead.byId[id] : newRead.byId[id];
      const { name, extra } = describe(element);
      const viewer = kind === 'removed' ? viewers.old : viewers.new;
      const link = viewer.get('elementRegistry').get(id)
        ? h('button', { type: 'button', class: 'verschil-naar', 'data-element-id': id }, name)
        : h('span', { class: 'element' }, name);
      link.addEventListener('click', () => focus(viewer, id));
      const item = h('li', { 'data-element-id': id, 'data-kind': kind }, link, h('span', { class: 'klein' }, ` (${extra})`));
      if (kind === 'changed') {
        item.append(`: ${changeText(id, element, oldRead.byId[id], aspects)}`);
      }
      return item;
    });
    box.append(h('h4', {}, `${HEADINGS[kind]} (${items.length})`), h('ul', { class: 'wijzigingen' }, ...items));
  }
  if (found.layout.length) {
    const names = found.layout.map((id) => describe(newRead.byId[id] || oldRead.byId[id]).name);
    box.append(h('p', { class: 'klein' }, `Alleen anders getekend: ${names.join(', ')}.`));
  }
}

/** Both diagrams follow each other: moving or zooming one moves the other. */
function follow(a, b) {
  let busy = false;
  const link = (from, to) => from.get('eventBus').on('canvas.viewbox.changed', ({ viewbox }) => {
    if (busy) {
      return;
    }
    busy = true;
    try {
      to.get('canvas').viewbox({ x: viewbox.x, y: viewbox.y, width: viewbox.width, height: viewbox.height });
    } finally {
      busy = false;
    }
  });
  link(a, b);
  link(b, a);
}

async function start() {
  const data = JSON.parse(byId('verschil-gegevens').textContent);
  const status = byId('verschil-status');
  const viewers = { old: new NavigatedViewer({ container: '#doek-oud' }), new: new NavigatedViewer({ container: '#doek-nieuw' }) };
  window.klachtroute = { viewers };
  try {
    await viewers.new.importXML(data.new.xml);
    await viewers.old.importXML(data.old.xml);
    viewers.new.get('canvas').zoom('fit-viewport', 'auto');
    viewers.old.get('canvas').viewbox(viewers.new.get('canvas').viewbox());
    follow(viewers.new, viewers.old);
    const [oldRead, newRead] = await Promise.all([read(data.old.xml), read(data.new.xml)]);
    const found = differences(oldRead, newRead);
    found.added.forEach((id) => mark(viewers.new, id, 'added'));
    found.removed.forEach((id) => mark(viewers.old, id, 'removed'));
    for (const kind of ['changed', 'layout']) {
      for (const id of found[kind]) {
        mark(viewers.new, id, kind);
        mark(viewers.old, id, kind);
      }
    }
    list(found, oldRead, newRead, viewers, data.aspects || {});
    const total = found.added.length + found.removed.length + found.changed.length;
    status.textContent = total
      ? `${found.added.length} toegevoegd, ${found.removed.length} verwijderd, ${found.changed.length} gewijzigd.`
      : 'Geen inhoudelijke verschillen in het diagram.';
    document.body.dataset.verschil = 'klaar';
  } catch (error) {
    status.textContent = `Het verschil kon niet worden getoond: ${error.message || error}`;
    status.classList.add('fout');
    document.body.dataset.verschil = 'fout';
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
