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

const KINDS = [
  ['bpmn:UserTask', 'Gebruikerstaak'],
  ['bpmn:ServiceTask', 'Servicetaak'],
  ['bpmn:ScriptTask', 'Scripttaak'],
  ['bpmn:ManualTask', 'Handmatige taak'],
  ['bpmn:SendTask', 'Verzendtaak'],
  ['bpmn:ReceiveTask', 'Ontvangsttaak'],
  ['bpmn:BusinessRuleTask', 'Beslistaak'],
  ['bpmn:CallActivity', 'Aanroep van een ander proces'],
  ['bpmn:SubProcess', 'Subproces'],
  ['bpmn:Task', 'Taak'],
  ['bpmn:StartEvent', 'Startgebeurtenis'],
  ['bpmn:EndEvent', 'Eindgebeurtenis'],
  ['bpmn:BoundaryEvent', 'Randgebeurtenis'],
  ['bpmn:IntermediateCatchEvent', 'Tussengebeurtenis (wacht)'],
  ['bpmn:IntermediateThrowEvent', 'Tussengebeurtenis'],
  ['bpmn:ExclusiveGateway', 'Exclusieve gateway'],
  ['bpmn:InclusiveGateway', 'Inclusieve gateway'],
  ['bpmn:ParallelGateway', 'Parallelle gateway'],
  ['bpmn:EventBasedGateway', 'Gateway op gebeurtenis'],
  ['bpmn:Gateway', 'Gateway'],
  ['bpmn:SequenceFlow', 'Pijl (volgorde)'],
  ['bpmn:MessageFlow', 'Berichtenstroom'],
  ['bpmn:Lane', 'Lane'],
  ['bpmn:Participant', 'Pool'],
  ['bpmn:Process', 'Proces'],
  ['bpmn:Collaboration', 'Diagram'],
  ['bpmn:TextAnnotation', 'Notitie']
];

const TIMER_KINDS = [
  ['timeDate', 'Op een moment (timeDate)'],
  ['timeDuration', 'Na een duur (timeDuration)'],
  ['timeCycle', 'Herhalend (timeCycle)']
];

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

  userTask(element, bo) {
    const schema = this.property(bo, 'formJsonSchemaFilename');
    const ui = this.property(bo, 'formUiSchemaFilename');
    const forms = this.data.forms;
    const own = forms.filter((f) => f.own);
    const other = forms.filter((f) => !f.own);
    const option = (f, current) => h('option', { value: f.schema, selected: f.schema === current, title: f.schema },
      f.title || f.schema);
    const schemaSelect = h('select', {
      id: 'paneel-formulier',
      onchange: (e) => {
        const value = e.target.value;
        const chosen = forms.find((f) => f.schema === value);
        const previous = forms.find((f) => f.schema === schema);
        this.batch(() => {
          this.setProperty(element, 'formJsonSchemaFilename', value);
          // The UI schema follows the form when it was the form's own (or none).
          if (!ui || (previous && previous.ui === ui)) {
            this.setProperty(element, 'formUiSchemaFilename', chosen && chosen.ui ? chosen.ui : '');
          }
        });
      }
    },
    h('option', { value: '', selected: !schema }, '— kies een formulier —'),
    own.length ? h('optgroup', { label: `Formulieren van ${this.data.organisation.name}` }, own.map((f) => option(f, schema))) : null,
    other.length ? h('optgroup', { label: 'Andere formulieren' }, other.map((f) => option(f, schema))) : null,
    schema && !forms.some((f) => f.schema === schema) ? h('option', { value: schema, selected: true }, `${schema} (bestaat niet)`) : null);

    const uiSelect = h('select', {
      id: 'paneel-uischema',
      onchange: (e) => this.setProperty(element, 'formUiSchemaFilename', e.target.value)
    },
    h('option', { value: '', selected: !ui }, '— geen UI-schema —'),
    this.data.ui_schemas.map((name) => h('option', { value: name, selected: name === ui }, name)),
    ui && !this.data.ui_schemas.includes(ui) ? h('option', { value: ui, selected: true }, `${ui} (bestaat niet)`) : null);

    const instructions = h('textarea', {
      id: 'paneel-instructies', rows: 5, value: this.text(bo, 'spiffworkflow:InstructionsForEndUser'),
      onchange: (e) => this.setText(element, 'spiffworkflow:InstructionsForEndUser', e.target.value.trim())
    });
    const edit = schema && this.data.urls.form_edit
      ? h('p', {}, h('a', { href: this.data.urls.form_edit.replace('__naam__', encodeURIComponent(schema)), target: '_blank', rel: 'noopener' }, 'Dit formulier bewerken (nieuw tabblad)'))
      : null;
    return this.section('Formulier en instructies',
      !schema ? h('p', { class: 'paneel-waarschuwing' }, 'Deze gebruikerstaak heeft nog geen formulier: kies er een.') : null,
      this.field('paneel-formulier', 'Formulier (JSON Schema)', schemaSelect,
        schema ? `Bestand: ${schema}` : 'Het formulier dat de medewerker bij deze taak invult.'),
      edit,
      this.field('paneel-uischema', 'UI-schema', uiSelect, 'Hoe de velden worden getoond (tekstvak, keuzerondjes, volgorde).'),
      this.field('paneel-instructies', 'Instructies voor de medewerker', instructions,
        'Staat boven het formulier. Gegevens van de klacht kunt u invoegen, bijvoorbeeld {{ referentie }} of {{ klager.naam }}.'));
  }

  // -- service task ------------------------------------------------------------------------

  operator(bo) {
    return this.extension(bo, 'spiffworkflow:ServiceTaskOperator');
  }

  parameters(operator) {
    const list = operator && operator.get('parameterList');
    return list ? list.get('parameters') : [];
  }

  setOperator(element, name) {
    const bo = getBusinessObject(element);
    const spec = this.data.operators.find((o) => o.name === name);
    this.batch(() => {
      let operator = this.operator(bo);
      if (!name) {
        if (operator) {
          this.removeExtension(element, operator);
        }
        return;
      }
      if (!operator) {
        operator = this.create('spiffworkflow:ServiceTaskOperator', { id: name });
        operator.set('parameterList', this.create('spiffworkflow:Parameters', { parameters: [] }, operator));
        this.addExtension(element, operator);
        return;
      }
      this.modeling.updateModdleProperties(element, operator, { id: name });
      const list = operator.get('parameterList');
      if (list && spec) {
        const known = spec.parameters.map((p) => p.name);
        this.modeling.updateModdleProperties(element, list, {
          parameters: list.get('parameters').filter((p) => known.includes(p.id))
        });
      }
    });
  }

  setParameter(element, name, value) {
    const operator = this.operator(getBusinessObject(element));
    if (!operator) {
      return;
    }
    this.batch(() => {
      let list = operator.get('parameterList');
      if (!list) {
        list = this.create('spiffworkflow:Parameters', { parameters: [] }, operator);
        this.modeling.updateModdleProperties(element, operator, { parameterList: list });
      }
      const params = list.get('parameters');
      const existing = params.find((p) => p.id === name);
      if (!value) {
        if (existing) {
          this.modeling.updateModdleProperties(element, list, { parameters: params.filter((p) => p !== existing) });
        }
      } else if (existing) {
        this.modeling.updateModdleProperties(element, existing, { value });
      } else {
        const param = this.create('spiffworkflow:Parameter', { id: name, type: 'str', value }, list);
        this.modeling.updateModdleProperties(element, list, { parameters: [...params, param] });
      }
    });
  }

  serviceTask(element, bo) {
    const operator = this.operator(bo);
    const name = operator ? operator.id : '';
    const spec = this.data.operators.find((o) => o.name === name);
    const select = h('select', { id: 'paneel-operator', onchange: (e) => this.setOperator(element, e.target.value) },
      h('option', { value: '', selected: !name }, '— kies wat deze stap doet —'),
      this.data.operators.map((o) => h('option', { value: o.name, selected: o.name === name }, `${o.label} (${o.name})`)),
      name && !spec ? h('option', { value: name, selected: true }, `${name} (bestaat niet)`) : null);
    const parts = [
      !name ? h('p', { class: 'paneel-waarschuwing' }, 'Een servicetaak heeft een operator nodig.') : null,
      this.field('paneel-operator', 'Operator', select, spec ? spec.doc : 'Wat de stap automatisch doet.')
    ];
    if (operator) {
      const params = this.parameters(operator);
      for (const param of spec ? spec.parameters : []) {
        const current = params.find((p) => p.id === param.name);
        const id = `paneel-param-${param.name}`;
        const listId = `${id}-lijst`;
        const suggestions = this.suggestions(name, param.name);
        const input = h('input', {
          id, type: 'text', value: current ? current.value || '' : '', spellcheck: 'false',
          list: suggestions.length ? listId : null,
          'aria-required': param.required ? 'true' : null,
          onchange: (e) => this.setParameter(element, param.name, e.target.value.trim())
        });
        parts.push(this.field(id, `${param.name}${param.required ? ' (verplicht)' : ''}`, input,
          param.help || 'Een uitdrukking: tekst tussen aanhalingstekens, bijvoorbeeld \'tekst\', of een gegeven zoals referentie.',
          suggestions.length ? h('datalist', { id: listId }, suggestions.map((s) => h('option', { value: s }))) : null));
      }
      for (const extra of params.filter((p) => !spec || !spec.parameters.some((s) => s.name === p.id))) {
        parts.push(h('div', { class: 'pveld' },
          h('p', { class: 'paneel-waarschuwing' }, `Parameter '${extra.id}' kent deze operator niet.`,
            ' ', h('button', { type: 'button', class: 'knop-klein', onclick: () => this.setParameter(element, extra.id, '') }, 'Weghalen'))));
      }
      parts.push(this.field('paneel-resultaat', 'Resultaat bewaren als', h('input', {
        id: 'paneel-resultaat', type: 'text', value: operator.resultVariable || '', spellcheck: 'false',
        onchange: (e) => this.modeling.updateModdleProperties(element, operator, { resultVariable: e.target.value.trim() || undefined })
      }), 'Naam van het gegeven waarin de uitkomst komt (mag leeg).'));
    }
    return this.section('Wat deze stap doet', ...parts);
  }

  suggestions(operator, param) {
    if (param === 'template') {
      return this.data.letters.map((l) => `'${l}'`);
    }
    if (param === 'role') {
      return this.data.roles.map((r) => `'${r.id}'`);
    }
    if (param === 'to') {
      return ["'klager'"];
    }
    return [];
  }

  // -- lane --------------------------------------------------------------------------------

  lane(element, bo) {
    const name = (bo.name || '').trim();
    const mapped = this.data.lanes[name];
    const namesFor = (role) => Object.entries(this.data.lanes).filter(([, r]) => r === role).map(([n]) => n);
    const select = h('select', {
      id: 'paneel-rol',
      onchange: (e) => {
        const names = namesFor(e.target.value);
        if (names.length) {
          this.modeling.updateLabel(element, names[0]);
        }
      }
    },
    !mapped ? h('option', { value: '', selected: true }, '— geen rol —') : null,
    this.data.roles.map((r) => {
      const names = namesFor(r.id);
      return h('option', { value: r.id, selected: r.id === mapped, disabled: !names.length },
        names.length ? `${r.label} (lane-naam: ${names.join(', ')})` : `${r.label} (heeft geen lane-naam)`);
    }));
    return this.section('Rol',
      mapped ? null : h('p', { class: 'paneel-waarschuwing', role: 'status' },
        name ? `De lane-naam '${name}' hoort bij geen enkele rol: niemand krijgt de taken in deze lane. Kies een rol hieronder.`
          : 'Deze lane heeft geen naam en dus geen rol.'),
      this.field('paneel-rol', 'Wie werkt deze lane', select,
        'Een rol kiezen geeft de lane de naam die bij die rol hoort.'),
      h('p', { class: 'paneel-info' },
        'Welke lane-naam bij welke rol hoort, staat in organisation.yaml (lanes), niet in het diagram. ',
        'Een nieuwe koppeling of een nieuwe rol regelt de beheerder van Klachtroute.'),
      h('details', {}, h('summary', {}, 'Lane-namen en rollen'),
        h('dl', { class: 'paneel-lijst' }, Object.entries(this.data.lanes).map(([n, r]) => [
          h('dt', {}, n), h('dd', {}, (this.data.roles.find((x) => x.id === r) || { label: r }).label)
        ]))));
  }

  // -- timer -------------------------------------------------------------------------------

  timerDefinition(bo) {
    return (bo.eventDefinitions || []).find((d) => is(d, 'bpmn:TimerEventDefinition'));
  }

  timer(element, bo) {
    const definition = this.timerDefinition(bo);
    const kind = TIMER_KINDS.map(([k]) => k).find((k) => definition.get(k)) || 'timeDate';
    const current = definition.get(kind) ? definition.get(kind).body || '' : '';
    const functions = this.data.calendar;
    const moments = this.data.moments;
    // An expression the picker cannot show as it is (`weeks_after(6 + wkkgz_verlenging_weken, ...)`)
    // is shown as written and only edited as text: the picker never offers to overwrite it.
    const readable = parseDeadline(current, functions);
    const parsed = readable || { fn: 'working_days_after', n: 3, moment: 'ontvangen_op', statutory: false };
    const write = (newKind, body) => {
      const props = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      props[newKind] = body ? this.expression(body) : undefined;
      if (props[newKind]) {
        props[newKind].$parent = definition;
      }
      this.modeling.updateModdleProperties(element, definition, props);
    };
    const kindSelect = h('select', { id: 'paneel-termijn-soort', onchange: (e) => write(e.target.value, current) },
      TIMER_KINDS.map(([k, label]) => h('option', { value: k, selected: k === kind }, label)));
    const expression = h('textarea', {
      id: 'paneel-termijn', rows: 2, value: current, spellcheck: 'false',
      onchange: (e) => write(kind, e.target.value.trim())
    });

    const fn = h('select', { id: 'paneel-termijn-functie' },
      functions.filter((f) => f.picker).map((f) => h('option', { value: f.name, selected: f.name === parsed.fn, title: f.name }, f.label)));
    const n = h('input', { id: 'paneel-termijn-aantal', type: 'number', min: 0, step: 1, value: String(parsed.n), class: 'smal-getal' });
    const momentKnown = moments.some((m) => m.value === parsed.moment);
    const moment = h('select', { id: 'paneel-termijn-moment' },
      moments.map((m) => h('option', { value: m.value, selected: m.value === parsed.moment }, m.label)),
      !momentKnown ? h('option', { value: parsed.moment, selected: true }, parsed.moment) : null);
    const statutory = h('input', { id: 'paneel-termijn-wettelijk', type: 'checkbox', checked: parsed.statutory });
    const statutoryRow = h('div', { class: 'pvinkje' }, statutory,
      h('label', { for: 'paneel-termijn-wettelijk' }, 'Algemene termijnenwet: eindigt de termijn in een weekend of op een feestdag, dan telt de eerstvolgende werkdag'));
    const preview = h('p', { class: 'hulp', id: 'paneel-termijn-uitleg', 'aria-live': 'polite' });
    const parts = () => ({ fn: fn.value, n: n.value, moment: moment.value, statutory: statutory.checked });
    const refresh = () => {
      const spec = functions.find((f) => f.name === fn.value);
      statutoryRow.hidden = !(spec && spec.params.includes('statutory'));
      preview.textContent = `${buildDeadline(parts(), functions)}: ${describeDeadline(parts(), functions, moments)}.`;
    };
    for (const control of [fn, n, moment, statutory]) {
      control.addEventListener('change', refresh);
      control.addEventListener('input', refresh);
    }
    refresh();
    const apply = h('button', {
      type: 'button', class: 'knop-klein', id: 'paneel-termijn-toepassen',
      onclick: () => write('timeDate', buildDeadline(parts(), functions))
    }, 'Termijn invullen');

    const cancel = is(bo, 'bpmn:BoundaryEvent') ? h('div', { class: 'pvinkje' },
      h('input', {
        id: 'paneel-onderbrekend', type: 'checkbox', checked: bo.cancelActivity !== false,
        onchange: (e) => this.modeling.updateProperties(element, { cancelActivity: e.target.checked })
      }),
      h('label', { for: 'paneel-onderbrekend' }, 'Onderbreekt de taak (escalatie); uit: de taak blijft open (herinnering)')) : null;

    const picker = current && !readable
      ? h('div', { class: 'paneel-eigen-termijn', id: 'paneel-termijn-eigen' },
        h('p', {}, 'Deze termijn is een eigen uitdrukking die de kiezer niet kan samenstellen:'),
        h('pre', { class: 'paneel-code' }, current),
        h('p', { class: 'hulp' }, 'Wijzig haar hieronder bij "Uitdrukking". Zo blijft ze precies zoals ze is.'))
      : h('fieldset', { class: 'paneel-kiezer' },
        h('legend', {}, 'Termijn samenstellen'),
        h('div', { class: 'kiezer-rij' }, n, fn),
        this.field('paneel-termijn-moment', 'na', moment),
        statutoryRow,
        preview,
        apply);

    return this.section('Termijn',
      !current ? h('p', { class: 'paneel-waarschuwing' }, 'Deze termijn heeft nog geen uitdrukking.') : null,
      picker,
      this.field('paneel-termijn', 'Uitdrukking', expression,
        'Wordt berekend als de stap begint. Voor een duur: "P2D" (twee dagen), met aanhalingstekens.'),
      this.field('paneel-termijn-soort', 'Soort termijn', kindSelect),
      cancel);
  }

  message(bo) {
    const definition = bo.eventDefinitions.find((d) => is(d, 'bpmn:MessageEventDefinition'));
    const message = definition.messageRef;
    const ext = definition.get('extensionElements');
    const variable = ext && (ext.get('values') || []).find((v) => is(v, 'spiffworkflow:MessageVariable'));
    return this.section('Bericht',
      h('dl', { class: 'paneel-lijst' },
        h('dt', {}, 'Bericht'), h('dd', {}, message ? message.name || message.id : '(geen bericht gekozen)'),
        h('dt', {}, 'Gegevens komen in'), h('dd', {}, variable ? variable.value : '(geen variabele)')),
      h('p', { class: 'hulp' }, 'Berichten van buiten (intrekken, reageren) hebben vaste namen; wijzig ze in overleg met de beheerder.'));
  }

  // -- gateways and flows ------------------------------------------------------------------

  condition(flowBo) {
    return flowBo.conditionExpression ? flowBo.conditionExpression.body || '' : '';
  }

  setCondition(flowElement, value) {
    const expression = value ? this.expression(value) : undefined;
    if (expression) {
      expression.$parent = getBusinessObject(flowElement);
    }
    this.modeling.updateProperties(flowElement, { conditionExpression: expression });
  }

  setDefault(gateway, flowBo) {
    this.batch(() => {
      if (flowBo && flowBo.conditionExpression) {
        this.setCondition(this.registry.get(flowBo.id), '');
      }
      this.modeling.updateProperties(gateway, { default: flowBo || undefined });
    });
  }

  target(flowBo) {
    const target = flowBo.targetRef;
    return target ? target.name || target.id : '?';
  }

  gateway(element, bo) {
    const outgoing = (element.outgoing || []).filter((c) => is(c, 'bpmn:SequenceFlow'));
    if (is(bo, 'bpmn:ParallelGateway') || is(bo, 'bpmn:EventBasedGateway')) {
      return this.section('Uitgaande paden', h('p', {}, is(bo, 'bpmn:ParallelGateway')
        ? 'Een parallelle gateway volgt alle uitgaande paden tegelijk; voorwaarden horen er niet bij.'
        : 'Deze gateway volgt het pad van de gebeurtenis die het eerst plaatsvindt.'));
    }
    const rows = outgoing.map((connection) => {
      const flow = getBusinessObject(connection);
      const isDefault = bo.default === flow;
      const id = `paneel-voorwaarde-${flow.id}`;
      return h('fieldset', { class: 'paneel-pad' + (isDefault ? ' standaard' : '') },
        h('legend', {}, `Naar: ${this.target(flow)}`, flow.name ? ` (“${flow.name}”)` : ''),
        h('div', { class: 'pvinkje' },
          h('input', {
            type: 'radio', name: 'paneel-standaard', id: `paneel-standaard-${flow.id}`, checked: isDefault,
            onchange: () => this.setDefault(element, flow)
          }),
          h('label', { for: `paneel-standaard-${flow.id}` }, 'Standaardpad (als geen voorwaarde klopt)')),
        isDefault ? h('p', { class: 'hulp' }, 'Het standaardpad heeft geen voorwaarde.')
          : this.field(id, 'Voorwaarde', h('textarea', {
            id, rows: 2, value: this.condition(flow), spellcheck: 'false',
            onchange: (e) => this.setCondition(connection, e.target.value.trim())
          })));
    });
    return this.section('Uitgaande paden',
      outgoing.length < 2 ? h('p', { class: 'hulp' }, 'Een gateway kiest tussen twee of meer uitgaande pijlen.') : null,
      is(bo, 'bpmn:ExclusiveGateway') && !bo.default && outgoing.length
        ? h('p', { class: 'paneel-waarschuwing' }, 'Geef een exclusieve gateway een standaardpad, zodat een klacht nooit vastloopt.') : null,
      h('p', { class: 'hulp' }, 'Voorwaarden zijn Python-uitdrukkingen over de gegevens, bijvoorbeeld opgelost == True of soort == \'klacht\'.'),
      ...rows,
      bo.default ? h('button', { type: 'button', class: 'knop-klein', onclick: () => this.setDefault(element, null) }, 'Geen standaardpad') : null);
  }

  flow(element, bo) {
    const source = bo.sourceRef;
    if (!source || !(is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'))) {
      return this.section('Pijl', h('p', { class: 'hulp' }, `Van ${source ? source.name || source.id : '?'} naar ${this.target(bo)}.`));
    }
    const gateway = this.registry.get(source.id);
    const isDefault = source.default === bo;
    return this.section('Pijl uit een gateway',
      h('div', { class: 'pvinkje' },
        h('input', {
          type: 'checkbox', id: 'paneel-standaardpad', checked: isDefault,
          onchange: (e) => this.setDefault(gateway, e.target.checked ? bo : null)
        }),
        h('label', { for: 'paneel-standaardpad' }, 'Standaardpad van de gateway')),
      isDefault ? null : this.field('paneel-voorwaarde', 'Voorwaarde', h('textarea', {
        id: 'paneel-voorwaarde', rows: 2, value: this.condition(bo), spellcheck: 'false',
        onchange: (e) => this.setCondition(element, e.target.value.trim())
      }), 'Een Python-uitdrukking over de gegevens, bijvoorbeeld tevreden == False.'));
  }

  participant(bo) {
    const process = bo.processRef;
    const ok = process && process.id === this.data.organisation.process_id;
    return this.section('Proces',
      h('dl', { class: 'paneel-lijst' }, h('dt', {}, 'Proces-id'), h('dd', {}, process ? process.id : '(geen)')),
      ok ? null : h('p', { class: 'paneel-waarschuwing' },
        `Klachtroute start het proces met id '${this.data.organisation.process_id}' (organisation.yaml).`));
  }
}
