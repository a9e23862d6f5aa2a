// Timer deadlines: the working-day functions of handlers/working_days.py, offered by name.
// parseDeadline reads an expression such as `weeks_after(6, ontvangen_op, statutory=True)`
// back into its parts; buildDeadline writes one. Anything else stays free text.

const CALL = /^\s*([a-z_]+)\(\s*(\d+)\s*,\s*([A-Za-z_][\w.]*(?:\(\))?)\s*(?:,\s*statutory\s*=\s*(True|False))?\s*\)\s*$/;

export function parseDeadline(expression, functions) {
  const match = CALL.exec(expression || '');
  if (!match || !functions.some((f) => f.name === match[1] && f.picker)) {
    return null;
  }
  return { fn: match[1], n: Number(match[2]), moment: match[3], statutory: match[4] === 'True' };
}

export function buildDeadline({ fn, n, moment, statutory }, functions) {
  const spec = functions.find((f) => f.name === fn);
  const count = Math.max(0, Math.floor(Number(n) || 0));
  const args = [String(count), moment || 'ontvangen_op'];
  if (statutory && spec && spec.params.includes('statutory')) {
    args.push('statutory=True');
  }
  return `${fn}(${args.join(', ')})`;
}

const SINGULAR = { werkdagen: 'werkdag', weken: 'week', maanden: 'maand', kalenderdagen: 'kalenderdag', dagen: 'dag' };

/** 'weken' -> 'week': "1 week", never "1 weken". */
export function singular(unit) {
  return SINGULAR[unit] || unit;
}

export function describeDeadline(parts, functions, moments) {
  const spec = functions.find((f) => f.name === parts.fn);
  if (!spec) {
    return '';
  }
  const moment = moments.find((m) => m.value === parts.moment);
  const from = moment ? moment.label : parts.moment;
  let text = `${parts.n} ${Number(parts.n) === 1 ? singular(spec.unit) : spec.unit} na ${from}`;
  if (parts.statutory && spec.params.includes('statutory')) {
    text += '; valt het einde op een weekend of feestdag, dan de eerstvolgende werkdag';
  }
  return text;
}

const ID = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A Dutch message when `id` cannot be an element id, else null. */
export function idProblem(id, taken) {
  if (!id) {
    return 'Een id is verplicht.';
  }
  if (!ID.test(id)) {
    return 'Gebruik alleen letters, cijfers, _ . en -, en begin met een letter of _.';
  }
  if (id === 'Start' || id === 'End') {
    return 'De ids Start en End gebruikt SpiffWorkflow zelf; kies een andere.';
  }
  if (taken) {
    return 'Dit id is al in gebruik in het diagram.';
  }
  return null;
}
