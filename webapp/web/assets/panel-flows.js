// The side panel's sections for lanes (their role), gateways and flows (conditions, the default
// flow) and the pool (its process): methods of SidePanel, mixed in by panel.js.

import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { h } from './api.js';

export class FlowSections {
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
