// The side panel's sections for timers (the deadline picker) and messages: methods of SidePanel,
// mixed in by panel.js.

import { is } from 'bpmn-js/lib/util/ModelUtil';

import { h } from './api.js';
import { buildDeadline, describeDeadline, parseDeadline } from './expressions.js';
import { TIMER_KINDS } from './panel-kinds.js';

export class EventSections {
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
}
