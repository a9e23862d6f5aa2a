/* The trace page: draw the complaint's diagram version with bpmn-js (NavigatedViewer: drag to
   pan, Ctrl + wheel to zoom) and mark what ran, what is open, what was cut off and the flows
   taken. The markers come from the page's JSON (#spoor-data); the list of steps is plain HTML
   and works without this script. When done, #spoor-diagram gets data-status="klaar" (or "fout"). */
(function () {
  'use strict';

  var MARKERS = {
    voltooid: 'spoor-voltooid',
    actief: 'spoor-actief',
    wachtend: 'spoor-wachtend',
    geannuleerd: 'spoor-geannuleerd',
    genomen: 'spoor-genomen'
  };

  var page = document.querySelector('.spoor');
  var container = document.getElementById('spoor-diagram');
  var source = document.getElementById('spoor-data');
  var notice = document.querySelector('.spoor-melding');
  if (!page || !container || !source) {
    return;
  }
  page.classList.add('spoor-js');  // room for the diagram, and its legend

  function fail(message) {
    page.classList.remove('spoor-js');
    container.setAttribute('data-status', 'fout');
    if (notice) {
      notice.textContent = message + ' De stappen staan in de lijst.';
      notice.hidden = false;
    }
  }

  if (typeof window.BpmnJS !== 'function') {
    fail('Het diagram kon niet worden geladen.');
    return;
  }

  var data = JSON.parse(source.textContent);
  var viewer = new window.BpmnJS({ container: container });

  viewer.importXML(data.xml).then(function () {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var applied = {};

    Object.keys(MARKERS).forEach(function (key) {
      applied[key] = 0;
      (data[key] || []).forEach(function (id) {
        if (registry.get(id)) {  // elements of called processes are not on this diagram
          canvas.addMarker(id, MARKERS[key]);
          applied[key] += 1;
        }
      });
    });
    (data.genomen || []).forEach(function (id) { underlay(registry, id); });
    canvas.zoom('fit-viewport', 'auto');
    wireButtons(canvas, registry);
    container.setAttribute('data-markers', JSON.stringify(applied));
    container.setAttribute('data-status', 'klaar');
  }).catch(function (err) {
    fail('Het diagram kon niet worden getekend (' + (err && err.message ? err.message : err) + ').');
  });

  /* A broad translucent band under a flow taken, the same width on screen at every zoom, so the
     path shows in the overview; the flow itself keeps its line and arrowhead on top. */
  function underlay(registry, id) {
    var gfx = registry.getGraphics(id);
    var line = gfx && gfx.querySelector('.djs-visual > path');
    if (!line) {
      return;
    }
    var band = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    band.setAttribute('d', line.getAttribute('d'));
    band.setAttribute('class', 'spoor-band');
    line.parentNode.insertBefore(band, line);
  }

  function wireButtons(canvas, registry) {
    var zoomBar = document.querySelector('.spoor-knoppen');
    if (zoomBar) {
      zoomBar.hidden = false;
      zoomBar.addEventListener('click', function (event) {
        var button = event.target.closest('button[data-zoom]');
        if (!button) {
          return;
        }
        var how = button.getAttribute('data-zoom');
        if (how === 'fit') {
          canvas.zoom('fit-viewport', 'auto');
        } else {
          canvas.zoom(canvas.zoom() * (how === 'in' ? 1.25 : 0.8));
        }
      });
    }

    var focused = null;
    Array.prototype.forEach.call(document.querySelectorAll('button.spoor-toon'), function (button) {
      var element = registry.get(button.getAttribute('data-bpmn-id'));
      if (!element) {
        return;
      }
      button.hidden = false;
      button.addEventListener('click', function () {
        if (focused) {
          canvas.removeMarker(focused, 'spoor-focus');
        }
        focused = element.id;
        canvas.addMarker(focused, 'spoor-focus');
        if (canvas.zoom() < 0.9) {
          canvas.zoom(1);
        }
        canvas.scrollToElement(element, { top: 120, bottom: 120, left: 160, right: 160 });
        container.scrollIntoView({ block: 'nearest' });
      });
    });
  }
}());
