// The field builder above the JSON view of the form editor. It reads the two textareas into
// its model (formmodel.js) and writes both back on every change, so saving and the preview
// work as before. Its own inputs have no name: only the textareas are posted.

import {
  CONDITION, KINDS, NAME, conditionValues, newField, readForm, slug, uniqueName, writeForm
} from './formmodel.js';

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (key === 'text') {
      node.textContent = value;
    } else if (key === 'value') {
      node.value = value;
    } else {
      node.setAttribute(key, value === true ? '' : value);
    }
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const kindLabel = (kind) => (KINDS.find(([k]) => k === kind) || [kind, kind])[1];
const describe = (field) => field.title || field.name;

export function startBuilder({ container, schemaArea, uiArea, changed }) {
  const list = container.querySelector('#bouwer-velden');
  const status = container.querySelector('#bouwer-melding');
  const state = container.querySelector('#bouwer-toestand');
  const adder = container.querySelector('#bouwer-toevoegen');
  let model = null;

  const fieldById = (id) => model.fields.find((f) => f.id === Number(id));
  const byName = (name) => model.fields.find((f) => f.name === name);
  const announce = (text) => {
    status.textContent = '';
    window.setTimeout(() => { status.textContent = text; }, 50);
  };

  function write() {
    const { schema, ui } = writeForm(model);
    schemaArea.value = JSON.stringify(schema, null, 2);
    uiArea.value = JSON.stringify(ui, null, 2);
    changed();
  }

  // Fields whose condition leads (perhaps through others) to `field`: they cannot be its source.
  function dependsOn(candidate, field, seen = new Set()) {
    if (!candidate.condition || seen.has(candidate.name)) {
      return false;
    }
    seen.add(candidate.name);
    const source = byName(candidate.condition.field);
    return candidate.condition.field === field.name || (source !== undefined && dependsOn(source, field, seen));
  }

  function sources(field) {
    return model.fields.filter((f) => f !== field && conditionValues(f) && !dependsOn(f, field));
  }

  function fillConditionSelects(card, field) {
    const which = card.querySelector('[data-eigenschap="als-veld"]');
    const value = card.querySelector('[data-eigenschap="als-waarde"]');
    if (!which) {
      return;
    }
    which.replaceChildren(el('option', { value: '', text: 'Altijd tonen' }),
      ...sources(field).map((f) => el('option', { value: f.name, text: `${describe(f)} (${f.name})` })));
    which.value = field.condition ? field.condition.field : '';
    const values = field.condition ? conditionValues(byName(field.condition.field)) || [] : [];
    value.replaceChildren(...values.map((v, i) => el('option', { value: String(i), text: v.label })));
    const chosen = values.findIndex((v) => v.value === (field.condition && field.condition.value));
    value.value = String(Math.max(chosen, 0));
    card.querySelector('.bouwer-waarde').hidden = !field.condition;
  }

  function refreshConditions() {
    for (const card of list.querySelectorAll('.bouwer-veld[data-bekend]')) {
      fillConditionSelects(card, fieldById(card.dataset.id));
    }
  }

  // A condition whose source no longer offers its value (options changed, kind changed) lapses.
  function dropStaleConditions() {
    for (const field of model.fields) {
      if (!field.known || !field.condition) {
        continue;
      }
      const values = conditionValues(byName(field.condition.field));
      if (!values || !values.some((v) => v.value === field.condition.value)) {
        field.condition = null;
        announce(`De voorwaarde van het veld ${describe(field)} is vervallen.`);
      }
    }
  }

  function labelled(id, label, control, hint) {
    return el('div', { class: 'bouwer-invoer' }, el('label', { for: id, text: label }),
      hint ? el('p', { class: 'hulp', id: `${id}-hulp`, text: hint }) : null, control);
  }

  function moveButtons(field, index) {
    const name = describe(field);
    return el('div', { class: 'bouwer-knoppen' },
      el('button', { type: 'button', class: 'knop-klein', 'data-actie': 'omhoog', disabled: index === 0,
        'aria-label': `Veld ${name} omhoog`, text: 'Omhoog' }),
      el('button', { type: 'button', class: 'knop-klein', 'data-actie': 'omlaag',
        disabled: index === model.fields.length - 1, 'aria-label': `Veld ${name} omlaag`, text: 'Omlaag' }),
      field.known ? el('button', { type: 'button', class: 'knop-klein bouwer-weg', 'data-actie': 'verwijderen',
        'aria-label': `Veld ${name} verwijderen`, text: 'Verwijderen' }) : null);
  }

  function unknownCard(field, index) {
    return el('li', { class: 'bouwer-veld bouwer-onbekend', 'data-id': field.id },
      el('h3', { class: 'bouwer-kop', text: `Veld ${index + 1}: ${describe(field)}` }),
      el('p', { class: 'hulp', text: `Technische naam: ${field.name}. Alleen in JSON-weergave te bewerken: `
        + 'de veldenbouwer laat dit veld ongewijzigd.' }),
      moveButtons(field, index));
  }

  function card(field, index) {
    if (!field.known) {
      return unknownCard(field, index);
    }
    const id = `bouwer-${field.id}`;
    const kind = el('select', { id: `${id}-soort`, 'data-eigenschap': 'soort' },
      ...KINDS.map(([value, label]) => el('option', { value, text: label })));
    kind.value = field.kind;
    const parts = [
      el('h3', { class: 'bouwer-kop', id: `${id}-kop`, text: `Veld ${index + 1}: ${describe(field)}` }),
      el('div', { class: 'bouwer-rij' },
        labelled(`${id}-titel`, 'Vraag of titel', el('input', { type: 'text', id: `${id}-titel`,
          'data-eigenschap': 'titel', value: field.title })),
        labelled(`${id}-soort`, 'Soort veld', kind)),
      labelled(`${id}-naam`, 'Technische naam', el('input', { type: 'text', id: `${id}-naam`,
        'data-eigenschap': 'naam', value: field.name, spellcheck: 'false', autocomplete: 'off',
        'aria-describedby': `${id}-naam-hulp` }),
        'Letters, cijfers en _, niet beginnend met een cijfer. De procesregels gebruiken deze naam; '
        + 'wijzigt u die van een bestaand veld, pas dan ook de regels aan.'),
      el('p', { class: 'veld-fout', id: `${id}-naam-fout`, hidden: true })
    ];
    if (field.kind === 'choice') {
      parts.push(labelled(`${id}-keuzes`, 'Keuzes (één per regel)', el('textarea', { id: `${id}-keuzes`,
        rows: '4', 'data-eigenschap': 'keuzes', value: field.options.map((o) => o.label).join('\n') })));
    }
    if (field.kind === 'number') {
      parts.push(el('div', { class: 'keuze' }, el('input', { type: 'checkbox', id: `${id}-geheel`,
        'data-eigenschap': 'geheel', checked: field.integer }), el('label', { for: `${id}-geheel`,
        text: 'Alleen hele getallen' })));
    }
    parts.push(
      el('div', { class: 'keuze' }, el('input', { type: 'checkbox', id: `${id}-verplicht`,
        'data-eigenschap': 'verplicht', checked: field.required, 'aria-describedby': `${id}-verplicht-hulp` }),
      el('label', { for: `${id}-verplicht`, text: 'Verplicht' })),
      el('p', { class: 'hulp', id: `${id}-verplicht-hulp`, text: 'Een veld dat alleen soms wordt getoond, is '
        + 'alleen verplicht als het wordt getoond.' }),
      labelled(`${id}-hulp`, 'Hulptekst (optioneel)', el('textarea', { id: `${id}-hulp`, rows: '2',
        'data-eigenschap': 'hulp', value: field.help })),
      el('div', { class: 'bouwer-rij' },
        labelled(`${id}-als`, 'Alleen tonen als', el('select', { id: `${id}-als`, 'data-eigenschap': 'als-veld' })),
        el('div', { class: 'bouwer-waarde' }, labelled(`${id}-waarde`, 'gelijk is aan',
          el('select', { id: `${id}-waarde`, 'data-eigenschap': 'als-waarde' })))),
      moveButtons(field, index));
    const item = el('li', { class: 'bouwer-veld', 'data-id': field.id, 'data-bekend': true,
      'aria-labelledby': `${id}-kop` }, ...parts);
    return item;
  }

  function render(focus) {
    list.replaceChildren(...model.fields.map(card));
    refreshConditions();
    if (!model.fields.length) {
      list.append(el('li', { class: 'leeg', text: 'Dit formulier heeft nog geen velden.' }));
    }
    state.replaceChildren(...(model.otherRules ? [el('p', { class: 'hulp', text: 'Dit formulier heeft ook '
      + 'regels die alleen in de JSON-weergave te bewerken zijn (zoals "if"/"then"). De veldenbouwer laat ze '
      + 'ongewijzigd.' })] : []));
    if (focus) {
      const target = focus.map((selector) => list.querySelector(selector)).find(Boolean);
      (target || adder.querySelector('button')).focus();
    }
  }

  function load() {
    let schema;
    let ui;
    try {
      schema = JSON.parse(schemaArea.value);
      ui = uiArea.value.trim() ? JSON.parse(uiArea.value) : {};
    } catch (e) {
      schema = null;
    }
    model = schema ? readForm(schema, ui) : null;
    container.classList.toggle('bouwer-uit', !model);
    adder.hidden = !model;
    if (!model) {
      list.replaceChildren();
      state.replaceChildren(el('p', { class: 'melding', text: 'De veldenbouwer wacht tot de JSON-weergave weer een '
        + 'geldig formulier bevat (een object met "properties").' }));
      return;
    }
    render();
  }

  function rename(field, name) {
    for (const other of model.fields) {
      if (other.condition && other.condition.field === field.name) {
        other.condition.field = name;
      }
    }
    field.name = name;
  }

  function takenBy(field) {
    return new Set(model.fields.filter((f) => f !== field).map((f) => f.name));
  }

  function setTitle(field, cardNode, value) {
    field.title = value;
    cardNode.querySelector('.bouwer-kop').textContent =
      `Veld ${model.fields.indexOf(field) + 1}: ${describe(field)}`;
    if (!field.nameTouched) {
      rename(field, uniqueName(slug(value) || 'veld', takenBy(field)));
      cardNode.querySelector('[data-eigenschap="naam"]').value = field.name;
    }
    for (const button of cardNode.querySelectorAll('[data-actie]')) {
      button.setAttribute('aria-label', `Veld ${describe(field)} ${button.textContent.toLowerCase()}`);
    }
  }

  function setName(field, input) {
    const error = document.getElementById(`${input.id}-fout`);
    const value = input.value.trim();
    let problem = '';
    if (!NAME.test(value)) {
      problem = 'Gebruik alleen letters, cijfers en _, en begin niet met een cijfer.';
    } else if (takenBy(field).has(value)) {
      problem = `Er is al een veld met de naam ${value}. Kies een andere naam.`;
    }
    error.textContent = problem;
    error.hidden = !problem;
    input.setAttribute('aria-describedby', problem ? `${input.id}-fout ${input.id}-hulp` : `${input.id}-hulp`);
    if (problem) {
      input.setAttribute('aria-invalid', 'true');
      return false;
    }
    input.removeAttribute('aria-invalid');
    field.nameTouched = true;
    rename(field, value);
    return true;
  }

  function setOptions(field, text) {
    const labels = [...new Set(text.split('\n').map((l) => l.trim()).filter(Boolean))];
    const taken = new Set();
    field.options = labels.map((label) => {
      const existing = field.options.find((o) => o.label === label);
      const value = existing ? existing.value : uniqueName(slug(label) || 'keuze', taken);
      taken.add(value);
      return { value, label };
    });
  }

  // Typing: the model and the JSON follow; the cards stay, so the focus stays where it is.
  container.addEventListener('input', (event) => {
    const input = event.target;
    const cardNode = input.closest('.bouwer-veld[data-bekend]');
    if (!cardNode || !input.dataset.eigenschap) {
      return;
    }
    const field = fieldById(cardNode.dataset.id);
    const what = input.dataset.eigenschap;
    if (what === 'titel') {
      setTitle(field, cardNode, input.value);
    } else if (what === 'naam' && !setName(field, input)) {
      return;
    } else if (what === 'keuzes') {
      setOptions(field, input.value);
      dropStaleConditions();
    } else if (what === 'hulp') {
      field.help = input.value;
    } else {
      return; // selects and checkboxes: on change
    }
    refreshConditions();
    write();
  });

  container.addEventListener('change', (event) => {
    const input = event.target;
    const cardNode = input.closest('.bouwer-veld[data-bekend]');
    if (!cardNode) {
      return;
    }
    const field = fieldById(cardNode.dataset.id);
    const what = input.dataset.eigenschap;
    if (what === 'soort') {
      Object.assign(field, { kind: input.value, extraSchema: {}, extraUi: {}, options: [], items: undefined,
        helpKey: 'description' });
      dropStaleConditions();
      render([`#bouwer-${field.id}-soort`]);
    } else if (what === 'verplicht') {
      field.required = input.checked;
    } else if (what === 'geheel') {
      field.integer = input.checked;
    } else if (what === 'als-veld') {
      const values = input.value ? conditionValues(byName(input.value)) : null;
      field.condition = values ? { field: input.value, value: values[0].value } : null;
      fillConditionSelects(cardNode, field);
    } else if (what === 'als-waarde' && field.condition) {
      field.condition.value = conditionValues(byName(field.condition.field))[Number(input.value)].value;
    } else {
      return;
    }
    write();
  });

  container.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-actie]');
    if (!button) {
      return;
    }
    event.preventDefault();
    const action = button.dataset.actie;
    if (action === 'toevoegen') {
      const kind = adder.querySelector('select').value;
      const field = newField(kind, takenBy(null));
      model.fields.push(field);
      render([`#bouwer-${field.id}-titel`]);
      announce(`Veld ${model.fields.length} (${kindLabel(kind).toLowerCase()}) is toegevoegd.`);
      write();
      return;
    }
    const field = fieldById(button.closest('.bouwer-veld').dataset.id);
    const index = model.fields.indexOf(field);
    if (action === 'verwijderen') {
      model.fields.splice(index, 1);
      dropStaleConditions();
      const next = model.fields[Math.min(index, model.fields.length - 1)];
      render(next ? [`[data-id="${next.id}"] input, [data-id="${next.id}"] button:not([disabled])`] : []);
      announce(`Het veld ${describe(field)} is verwijderd.`);
    } else {
      const to = action === 'omhoog' ? index - 1 : index + 1;
      model.fields.splice(index, 1);
      model.fields.splice(to, 0, field);
      render([`[data-id="${field.id}"] [data-actie="${action}"]:not([disabled])`,
        `[data-id="${field.id}"] [data-actie]:not([disabled])`]);
      announce(`Het veld ${describe(field)} staat nu op plaats ${to + 1}.`);
    }
    write();
  });

  // Enter in a builder input would submit the form (and save it): it does nothing here.
  container.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target.matches('input')) {
      event.preventDefault();
    }
  });

  adder.querySelector('select').replaceChildren(...KINDS.map(([value, label]) => el('option', { value, text: label })));
  load();
  container.hidden = false;
  return { reload: load, conditionKey: CONDITION };
}
