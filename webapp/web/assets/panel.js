// The side panel: edits what SpiffWorkflow and Klachtroute need of the selected element,
// through bpmn-js commands (so Ctrl+Z undoes them). Plain DOM, Dutch labels.
//
//  user task      form (JSON Schema + UI schema from forms/), instructions for the employee
//  service task   operator (handlers/operators.py) and its parameters, result variable
//  lane           the role its name maps to in organisation.yaml
//  timer          the deadline expression, with the working-day functions as a picker
//  gateway/flow   each outgoing flow's condition, the default flow
//  every element  name and id

import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { h } from './api.js';
import { buildDeadline, describeDeadline, idProblem, parseDeadline } from './expressions.js';
import { EventSections } from './panel-events.js';
import { FlowSections } from './panel-flows.js';
import { KINDS, TIMER_KINDS } from './panel-kinds.js';
import { TaskSections } from './panel-tasks.js';

/** One undoable step made of several bpmn-js commands. */
class BatchHandler {
  preExecute(context) {
    context.run();
  }

  execute() {
    return [];
  }

  revert() {
    return [];
  }
}

export class SidePanel {
  constructor(root, modeler, data, hooks = {}) {
    this.root = root;
    this.modeler = modeler;
    this.data = data;
    this.hooks = hooks;
    this.modeling = modeler.get('modeling');
    this.factory = modeler.get('bpmnFactory');
    this.registry = modeler.get('elementRegistry');
    this.selection = modeler.get('selection');
    this.canvas = modeler.get('canvas');
    this.moddle = modeler.get('moddle');
    this.commandStack = modeler.get('commandStack');
    this.problems = {};
    this.element = null;
    this.commandStack.register('klachtroute.batch', new BatchHandler());

    const eventBus = modeler.get('eventBus');
    eventBus.on('selection.changed', (event) => this.show(event.newSelection[0] || null));
    eventBus.on('elements.changed', (event) => {
      const current = this.element;
      if (!current) {
        return;
      }
      const touched = event.elements.some((e) => e === current || e.id === current.id ||
        (e.businessObject && current.businessObject && e.businessObject === current.businessObject) ||
        (current.outgoing || []).includes(e));
      if (touched) {
        this.show(this.registry.get(current.id) || null);
      }
    });
    eventBus.on('import.done', () => this.show(null));
  }

  // -- model helpers ---------------------------------------------------------------------

  batch(run) {
    this.commandStack.execute('klachtroute.batch', { run });
  }

  create(type, attrs, parent) {
    const element = this.factory.create(type, attrs || {});
    if (parent) {
      element.$parent = parent;
    }
    return element;
  }

  extension(bo, type) {
    const ext = bo.get('extensionElements');
    return ext ? (ext.get('values') || []).find((v) => is(v, type)) : undefined;
  }

  ensureExtensions(element) {
    const bo = getBusinessObject(element);
    let ext = bo.get('extensionElements');
    if (!ext) {
      ext = this.create('bpmn:ExtensionElements', { values: [] }, bo);
      this.modeling.updateProperties(element, { extensionElements: ext });
    }
    return ext;
  }

  addExtension(element, value) {
    const ext = this.ensureExtensions(element);
    value.$parent = ext;
    this.modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), value] });
  }

  removeExtension(element, value) {
    const ext = getBusinessObject(element).get('extensionElements');
    if (!ext) {
      return;
    }
    const rest = ext.get('values').filter((v) => v !== value);
    this.modeling.updateModdleProperties(element, ext, { values: rest });
  }

  property(bo, name) {
    const props = this.extension(bo, 'spiffworkflow:Properties');
    const found = props && props.get('properties').find((p) => p.name === name);
    return found ? found.value || '' : '';
  }

  setProperty(element, name, value) {
    const bo = getBusinessObject(element);
    let props = this.extension(bo, 'spiffworkflow:Properties');
    if (!value) {
      if (props) {
        const rest = props.get('properties').filter((p) => p.name !== name);
        if (rest.length) {
          this.modeling.updateModdleProperties(element, props, { properties: rest });
        } else {
          this.removeExtension(element, props);
        }
      }
      return;
    }
    if (!props) {
      props = this.create('spiffworkflow:Properties', { properties: [] });
      this.addExtension(element, props);
    }
    const existing = props.get('properties').find((p) => p.name === name);
    if (existing) {
      this.modeling.updateModdleProperties(element, existing, { value });
    } else {
      const prop = this.create('spiffworkflow:Property', { name, value }, props);
      this.modeling.updateModdleProperties(element, props, { properties: [...props.get('properties'), prop] });
    }
  }

  text(bo, type) {
    const found = this.extension(bo, type);
    return found ? found.value || '' : '';
  }

  setText(element, type, value) {
    const found = this.extension(getBusinessObject(element), type);
    if (!value) {
      if (found) {
        this.removeExtension(element, found);
      }
    } else if (found) {
      this.modeling.updateModdleProperties(element, found, { value });
    } else {
      this.addExtension(element, this.create(type, { value }));
    }
  }

  expression(body) {
    return this.create('bpmn:FormalExpression', { body });
  }

  // -- rendering -------------------------------------------------------------------------

  setProblems(problems) {
    this.problems = {};
    for (const problem of problems) {
      if (problem.element_id) {
        (this.problems[problem.element_id] = this.problems[problem.element_id] || []).push(problem);
      }
    }
    this.show(this.element && this.registry.get(this.element.id) ? this.registry.get(this.element.id) : null);
  }

  show(element) {
    // Re-rendering the same element (after a change) keeps the panel's scroll and focus.
    const same = element && this.element && element.id === this.element.id;
    const focused = same && this.root.contains(document.activeElement) ? document.activeElement.id : null;
    const scroll = same ? this.root.scrollTop : 0;
    this.element = element;
    const root = element || this.canvas.getRootElement();
    const bo = getBusinessObject(root);
    this.root.replaceChildren(...this.render(element, bo));
    this.root.scrollTop = scroll;
    if (focused && document.getElementById(focused)) {
      document.getElementById(focused).focus({ preventScroll: true });
    }
  }

  kind(bo) {
    const found = KINDS.find(([type]) => is(bo, type));
    let label = found ? found[1] : bo.$type.replace('bpmn:', '');
    const timer = this.timerDefinition(bo);
    if (timer) {
      label += ' met termijn';
    } else if ((bo.eventDefinitions || []).some((d) => is(d, 'bpmn:MessageEventDefinition'))) {
      label += ' (bericht)';
    }
    return label;
  }

  render(element, bo) {
    if (!element) {
      return this.renderOverview(bo);
    }
    const parts = [
      h('div', { class: 'paneel-kop' },
        h('p', { class: 'paneel-soort' }, this.kind(bo)),
        h('h2', { id: 'paneel-titel' }, bo.name || '(geen naam)'))
    ];
    const mine = this.problems[bo.id] || [];
    if (mine.length) {
      parts.push(h('div', { class: 'paneel-fouten', role: 'alert' },
        h('p', {}, h('strong', {}, mine.length === 1 ? 'Bij de laatste controle:' : 'Bij de laatste controle (' + mine.length + '):')),
        h('ul', {}, mine.map((p) => h('li', {}, p.message)))));
    }
    // What this kind of element needs first; name and id (also editable on the canvas) after.
    if (is(bo, 'bpmn:UserTask')) {
      parts.push(this.userTask(element, bo));
    }
    if (is(bo, 'bpmn:ServiceTask')) {
      parts.push(this.serviceTask(element, bo));
    }
    if (is(bo, 'bpmn:Lane')) {
      parts.push(this.lane(element, bo));
    }
    if (this.timerDefinition(bo)) {
      parts.push(this.timer(element, bo));
    }
    if ((bo.eventDefinitions || []).some((d) => is(d, 'bpmn:MessageEventDefinition'))) {
      parts.push(this.message(bo));
    }
    if (is(bo, 'bpmn:Gateway')) {
      parts.push(this.gateway(element, bo));
    }
    if (is(bo, 'bpmn:SequenceFlow')) {
      parts.push(this.flow(element, bo));
    }
    if (is(bo, 'bpmn:Participant')) {
      parts.push(this.participant(bo));
    }
    parts.push(this.general(element, bo));
    return parts;
  }

  renderOverview(bo) {
    const count = this.registry.filter((e) => is(e, 'bpmn:FlowNode') && e.type !== 'label').length;
    return [
      h('div', { class: 'paneel-kop' },
        h('p', { class: 'paneel-soort' }, 'Diagram'),
        h('h2', { id: 'paneel-titel' }, this.data.organisation.name)),
      h('p', {}, 'Klik op een element om het hier te bewerken: naam, formulier, rol, termijn, voorwaarden.'),
      h('p', { class: 'klein' }, `${count} ${count === 1 ? 'stap' : 'stappen'}. Proces-id: ${this.data.organisation.process_id}.`),
      h('h3', {}, 'Zo werkt het'),
      h('ul', { class: 'paneel-uitleg' },
        h('li', {}, 'Sleep een element uit het palet links, of klik op een element en kies in het menu ernaast wat erna komt.'),
        h('li', {}, 'Met de moersleutel in dat menu maakt u van een taak een gebruikerstaak (met formulier) of een servicetaak (brief of melding).'),
        h('li', {}, 'Controleer het ontwerp voordat u het publiceert; problemen worden rood omlijnd.'),
        h('li', {}, 'Ctrl+Z maakt een wijziging ongedaan.'))
    ];
  }

  section(title, ...children) {
    return h('section', { class: 'paneel-deel' }, h('h3', {}, title), ...children);
  }

  field(id, label, control, help, extra) {
    return h('div', { class: 'pveld' },
      h('label', { for: id }, label),
      control,
      help ? h('p', { class: 'hulp', id: `${id}-hulp` }, help) : null,
      extra || null);
  }

  general(element, bo) {
    const nameInput = h('textarea', {
      id: 'paneel-naam', rows: 2, value: bo.name || '',
      onchange: (e) => this.modeling.updateLabel(element, e.target.value.trim() || null)
    });
    const idError = h('p', { class: 'veld-fout', id: 'paneel-id-fout', hidden: true });
    const idInput = h('input', {
      id: 'paneel-id', type: 'text', value: bo.id, spellcheck: 'false',
      onchange: (e) => {
        const value = e.target.value.trim();
        if (value === bo.id) {
          idError.hidden = true;
          return;
        }
        const problem = idProblem(value, this.moddle.ids.assigned(value));
        idError.hidden = !problem;
        idError.textContent = problem || '';
        e.target.setAttribute('aria-invalid', problem ? 'true' : 'false');
        if (!problem) {
          this.modeling.updateProperties(element, { id: value });
        }
      }
    });
    const needsName = is(bo, 'bpmn:FlowNode') && !is(bo, 'bpmn:ParallelGateway');
    return this.section('Algemeen',
      this.field('paneel-naam', 'Naam', nameInput,
        needsName && !bo.name ? 'Elk element heeft een Nederlandse naam nodig.' : null),
      this.field('paneel-id', 'Id', idInput, 'Uniek in het diagram; klachten en logboeken verwijzen ernaar.', idError));
  }

  // -- user task ---------------------------------------------------------------------------

}

// The sections for tasks, events and flows live in modules of their own; they are methods of
// the panel (they use its editing helpers), so they are mixed into its prototype.
for (const part of [TaskSections, EventSections, FlowSections]) {
  for (const name of Object.getOwnPropertyNames(part.prototype)) {
    if (name !== 'constructor') {
      Object.defineProperty(SidePanel.prototype, name, Object.getOwnPropertyDescriptor(part.prototype, name));
    }
  }
}
