// The field builder's model: reads a form's JSON Schema and UI schema into a list of fields,
// and writes both back. Fields it understands (the common kinds) can be edited; every other
// field, and every rule of the form it did not write itself, is carried over untouched.
//
// "Alleen tonen als <veld> = <waarde>" is the UI option `ui:toonAls: {veld, waarde}` (see
// webapp/web/formconditions.py); a field that is required only when shown gets an allOf entry
// `{if: {properties: {veld: {const: waarde}}, required: [veld]}, then: {required: [naam]}}`,
// so the ordinary JSON Schema validation asks for it exactly when it is shown.

export const KINDS = [
  ['text', 'Korte tekst'],
  ['textarea', 'Lange tekst'],
  ['choice', 'Keuze uit opties'],
  ['yesno', 'Ja/nee-vraag'],
  ['date', 'Datum'],
  ['number', 'Getal'],
  ['list', 'Lijst (één antwoord per regel)']
];
export const CONDITION = 'ui:toonAls';
export const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const YES_NO = [{ value: true, label: 'Ja' }, { value: false, label: 'Nee' }];

// The keys of a field's schema and UI node that the builder writes; the rest is kept as is.
const SCHEMA_KEYS = ['type', 'title', 'description', 'format', 'enum', 'oneOf', 'items'];
const CHOICE_WIDGETS = [undefined, 'radio', 'select'];

const clone = (value) => JSON.parse(JSON.stringify(value));
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

function without(object, keys) {
  const result = {};
  for (const [key, value] of Object.entries(object || {})) {
    if (!keys.includes(key)) {
      result[key] = value;
    }
  }
  return result;
}

// JSON with sorted keys: two rules are the same whatever order their keys were written in.
function canonical(value) {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(',')}]`;
  }
  if (isObject(value)) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function slug(text) {
  const base = String(text).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '_').slice(0, 40).replace(/^_+|_+$/g, '');
  return /^[0-9]/.test(base) ? `veld_${base}` : base;
}

export function uniqueName(base, taken) {
  let name = base;
  for (let n = 2; taken.has(name); n += 1) {
    name = `${base}_${n}`;
  }
  return name;
}

// The field order formrender uses: ui:order first ("*" for the rest), then the others.
function ordered(names, order) {
  if (!Array.isArray(order)) {
    return names;
  }
  const listed = order.filter((n) => typeof n === 'string');
  const rest = names.filter((n) => !listed.includes(n));
  const star = listed.indexOf('*');
  const result = star < 0
    ? [...listed.filter((n) => names.includes(n)), ...rest]
    : [...listed.slice(0, star).filter((n) => names.includes(n)), ...rest,
      ...listed.slice(star + 1).filter((n) => names.includes(n))];
  return [...new Set(result)];
}

function choices(prop) {
  if (Array.isArray(prop.enum)) {
    const plain = prop.enum.length && prop.enum.every((v) => typeof v === 'string') && !('enumNames' in prop);
    return plain ? prop.enum.map((v) => ({ value: v, label: v })) : null;
  }
  const alternatives = prop.oneOf;
  const plain = Array.isArray(alternatives) && alternatives.length && alternatives.every(
    (a) => isObject(a) && typeof a.const === 'string' && Object.keys(a).every((k) => k === 'const' || k === 'title'));
  return plain ? alternatives.map((a) => ({ value: a.const, label: a.title ?? a.const })) : null;
}

function simpleItems(items) {
  return isObject(items) && (items.type ?? 'string') === 'string'
    && !['enum', 'oneOf', 'anyOf', 'allOf', 'properties', 'items', '$ref', 'format', 'const'].some((k) => k in items);
}

// The builder's kind of a field, or null when only the JSON view can edit it.
export function kindOf(prop, node) {
  if (!isObject(prop) || '$ref' in prop || 'anyOf' in prop || 'allOf' in prop || 'const' in prop) {
    return null;
  }
  const options = isObject(node['ui:options']) ? node['ui:options'] : {};
  if (['ui:field', 'ui:title', 'ui:description', 'ui:enumNames'].some((k) => k in node)
      || ['widget', 'help', 'toonAls', 'title', 'description', 'enumNames'].some((k) => k in options)) {
    return null;
  }
  const widget = node['ui:widget'];
  const type = prop.type;
  if ('enum' in prop || 'oneOf' in prop) {
    return (type === undefined || type === 'string') && CHOICE_WIDGETS.includes(widget) && choices(prop)
      ? 'choice' : null;
  }
  if (type === 'boolean') {
    return CHOICE_WIDGETS.includes(widget) ? 'yesno' : null;
  }
  if (type === 'string') {
    if (prop.format === 'date') {
      return widget === undefined || widget === 'date' ? 'date' : null;
    }
    if (prop.format !== undefined) {
      return null;
    }
    return { textarea: 'textarea', text: 'text', undefined: 'text' }[widget] || null;
  }
  if (type === 'integer' || type === 'number') {
    return widget === undefined ? 'number' : null;
  }
  if (type === 'array' && widget === undefined && !('items' in node) && simpleItems(prop.items)) {
    return 'list';
  }
  return null;
}

function conditionOf(node) {
  const raw = node[CONDITION];
  if (raw === undefined) {
    return { condition: null, ok: true };
  }
  const ok = isObject(raw) && typeof raw.veld === 'string' && ['string', 'boolean'].includes(typeof raw.waarde)
    && Object.keys(raw).length === 2;
  return { condition: ok ? { field: raw.veld, value: raw.waarde } : null, ok };
}

export function conditionRule(name, condition) {
  return {
    if: { properties: { [condition.field]: { const: condition.value } }, required: [condition.field] },
    then: { required: [name] }
  };
}

let counter = 0;

function readField(name, prop, node, required) {
  counter += 1;
  const base = { id: counter, name, nameTouched: true, required, raw: { schema: prop, ui: node } };
  const kind = kindOf(prop, node);
  const { condition, ok } = conditionOf(node);
  if (!kind || !ok) {
    return { ...base, known: false, title: isObject(prop) && typeof prop.title === 'string' ? prop.title : '' };
  }
  const helpKey = prop.description === undefined && typeof node['ui:help'] === 'string' ? 'ui:help' : 'description';
  const help = helpKey === 'ui:help' ? node['ui:help'] : prop.description;
  const uiKeys = [CONDITION, ...(helpKey === 'ui:help' ? ['ui:help'] : []),
    ...(['text', 'textarea'].includes(kind) ? ['ui:widget'] : [])];
  return {
    ...base,
    known: ['undefined', 'string'].includes(typeof prop.title) && ['undefined', 'string'].includes(typeof help),
    kind,
    title: typeof prop.title === 'string' ? prop.title : '',
    help: help ?? '',
    helpKey,
    integer: prop.type === 'integer',
    options: kind === 'choice' ? choices(prop) : [],
    items: kind === 'list' ? prop.items : undefined,
    condition,
    extraSchema: without(prop, SCHEMA_KEYS),
    extraUi: without(node, uiKeys)
  };
}

export function newField(kind, taken) {
  counter += 1;
  return {
    id: counter, known: true, name: uniqueName('veld', taken), nameTouched: false, kind, title: '', help: '',
    helpKey: 'description', required: false, integer: false, options: [], condition: null,
    extraSchema: {}, extraUi: {}
  };
}

// Options a condition can test: a choice field's options, or yes and no.
export function conditionValues(field) {
  if (!field || !field.known) {
    return null;
  }
  if (field.kind === 'yesno') {
    return YES_NO;
  }
  return field.kind === 'choice' && field.options.length ? field.options : null;
}

// Read a form. Returns null when the JSON is not a form the builder can read at all.
export function readForm(schema, ui) {
  if (!isObject(schema) || !isObject(schema.properties) || (ui !== undefined && !isObject(ui))) {
    return null;
  }
  ui = ui || {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const names = ordered(Object.keys(schema.properties), ui['ui:order']);
  const fields = names.map((name) => readField(name, schema.properties[name],
    isObject(ui[name]) ? ui[name] : {}, required.has(name)));
  if (names.some((name) => name in ui && !isObject(ui[name]))) {
    return null; // a UI node that is not an object: leave the whole form to the JSON view
  }
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const field of fields) {
    // A condition on something the builder cannot offer stays in the JSON view.
    if (field.known && field.condition) {
      const values = conditionValues(byName.get(field.condition.field));
      if (field.condition.field === field.name || !values
          || !values.some((v) => v.value === field.condition.value)) {
        field.known = false;
      }
    }
  }
  const rules = Array.isArray(schema.allOf) ? schema.allOf : [];
  const mine = new Set(fields.filter((f) => f.known && f.condition)
    .map((f) => canonical(conditionRule(f.name, f.condition))));
  const kept = rules.filter((rule) => !mine.has(canonical(rule)));
  for (const field of fields) {
    if (field.known && field.condition) {
      field.required = field.required || rules.some((r) => canonical(r) === canonical(conditionRule(field.name, field.condition)));
    }
  }
  const others = Object.keys(schema).filter((k) => ['if', 'then', 'else', 'anyOf', 'oneOf', 'not',
    'dependentSchemas', 'dependentRequired', 'dependencies'].includes(k));
  return {
    fields,
    schema: clone(schema),
    ui: clone(ui),
    keptRules: kept,
    requiredElsewhere: [...required].filter((n) => !byName.has(n)),
    otherRules: kept.length > 0 || others.length > 0
  };
}

function fieldSchema(field) {
  const prop = { type: field.kind === 'yesno' ? 'boolean' : field.kind === 'list' ? 'array' : 'string' };
  if (field.kind === 'number') {
    prop.type = field.integer ? 'integer' : 'number';
  }
  if (field.title) {
    prop.title = field.title;
  }
  if (field.help && field.helpKey === 'description') {
    prop.description = field.help;
  }
  if (field.kind === 'date') {
    prop.format = 'date';
  } else if (field.kind === 'choice') {
    if (field.options.every((o) => o.value === o.label)) {
      prop.enum = field.options.map((o) => o.value);
    } else {
      prop.oneOf = field.options.map((o) => ({ const: o.value, title: o.label }));
    }
  } else if (field.kind === 'list') {
    prop.items = field.items || { type: 'string' };
  }
  return { ...prop, ...field.extraSchema };
}

function fieldUi(field) {
  const node = { ...field.extraUi };
  if (field.kind === 'textarea') {
    node['ui:widget'] = 'textarea';
  }
  if (field.help && field.helpKey === 'ui:help') {
    node['ui:help'] = field.help;
  }
  if (field.condition) {
    node[CONDITION] = { veld: field.condition.field, waarde: field.condition.value };
  }
  return node;
}

// Put `values` in place of the original keys (undefined drops one), new keys at the end. With
// `only`, the original's keys that `values` lacks are dropped too (values is complete).
function assemble(original, values, only = false) {
  const result = {};
  for (const key of Object.keys(original)) {
    const value = key in values ? values[key] : only ? undefined : original[key];
    if (value !== undefined) {
      result[key] = value;
    }
  }
  for (const [key, value] of Object.entries(values)) {
    if (!(key in original) && value !== undefined) {
      result[key] = value;
    }
  }
  return result;
}

// Key order as in the original where a key was there already, so an edit shows as a small diff.
function keyOrder(original, names) {
  const known = Object.keys(original || {}).filter((n) => names.includes(n));
  return [...known, ...names.filter((n) => !known.includes(n))];
}

export function writeForm(model) {
  const { fields } = model;
  const properties = {};
  const nodes = {};
  const rules = [...model.keptRules];
  const required = [];
  for (const field of fields) {
    const raw = field.raw || { schema: {}, ui: {} };
    properties[field.name] = field.known ? assemble(raw.schema, fieldSchema(field), true) : raw.schema;
    const node = field.known ? assemble(raw.ui, fieldUi(field), true) : raw.ui;
    if (Object.keys(node).length) {
      nodes[field.name] = node;
    }
    if (field.known && field.required && field.condition) {
      rules.push(conditionRule(field.name, field.condition));
    } else if (field.required) {
      required.push(field.name);
    }
  }
  required.push(...model.requiredElsewhere);
  // With a ui:order the order of the keys does not matter for the form: keep the original's.
  const hasOrder = Array.isArray(model.ui['ui:order']);
  const names = fields.map((f) => f.name);
  const propertyNames = hasOrder ? keyOrder(model.schema.properties, names) : names;
  const schema = assemble(model.schema, {
    properties: Object.fromEntries(propertyNames.map((n) => [n, properties[n]])),
    required: required.length || 'required' in model.schema ? required : undefined,
    allOf: rules.length ? rules : undefined
  });
  const ui = {};
  for (const key of keyOrder(model.ui, [...Object.keys(model.ui), ...names])) {
    if (key === 'ui:order') {
      ui[key] = names;
    } else if (key in nodes) {
      ui[key] = nodes[key];
    } else if (key.startsWith('ui:') || (key in model.ui && !(key in model.schema.properties))) {
      ui[key] = model.ui[key]; // root options, and nodes of fields that do not exist (the checks name them)
    }
  }
  return { schema, ui };
}
