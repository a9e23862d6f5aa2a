// "Alleen tonen als": a task form's question that applies only when another answer says so is
// hidden until it does. Without JavaScript every question shows, with its "Alleen invullen als ..."
// hint, and the server ignores an answer to a question that does not apply (webapp.web.formconditions).
(function () {
  'use strict';
  var data = document.getElementById('toon-als-gegevens');
  if (!data) { return; }
  var rules = JSON.parse(data.textContent);
  var form = data.closest('form') || document;

  function answer(source) {
    var inputs = form.querySelectorAll('[name="' + CSS.escape(source) + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === 'radio' || input.type === 'checkbox') {
        if (input.checked) { return input.value; }
      } else if (input.type !== 'hidden') {
        return input.value;
      }
    }
    return '';
  }

  function wrapper(name) {
    var input = form.querySelector('[name="' + CSS.escape(name) + '"]');
    return input ? input.closest('.veld, fieldset') : null;
  }

  function update() {
    Object.keys(rules).forEach(function (name) {
      var box = wrapper(name);
      if (box) {
        box.hidden = answer(rules[name]['data-toon-als']) !== rules[name]['data-toon-als-waarde'];
      }
    });
  }

  form.addEventListener('change', update);
  form.addEventListener('input', update);
  update();
}());
