// The side panel's sections for user tasks (form, instructions) and service tasks (operator,
// parameters): methods of SidePanel, mixed in by panel.js.

import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { h } from './api.js';

export class TaskSections {
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
}
