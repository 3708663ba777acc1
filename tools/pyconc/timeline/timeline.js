// The timeline of `pyconc trace view`: one <canvas>, a lane per process/thread, each event drawn
// at its row. Wheel zooms around the pointer, drag pans, double-click shows the whole trace,
// hovering shows an event's details. Only events inside the view are visited (each lane's
// events are sorted by start; a binary search finds the first one that can be visible), and
// spans narrower than a pixel that land on an already painted pixel are skipped, so 100k
// events stay interactive. Errors of this script are listed in #tl-errors (and counted in
// the body's data-console-errors) for the browser test.
(function () {
  'use strict';
  var errs = [];
  function report(msg) {
    errs.push(String(msg));
    var el = document.getElementById('tl-errors');
    if (el) el.textContent = errs.join('\n');
    if (document.body) document.body.setAttribute('data-console-errors', String(errs.length));
  }
  if (!window.pyconcTimelineHooked) {
    window.pyconcTimelineHooked = true;
    window.addEventListener('error', function (e) { report(e.message || 'error'); });
    var consoleError = console.error;
    console.error = function () {
      report(Array.prototype.join.call(arguments, ' '));
      consoleError.apply(console, arguments);
    };
    if (document.body) document.body.setAttribute('data-console-errors', '0');
  }

  var root = document.currentScript.closest('.pyconc-timeline');
  var data = JSON.parse(root.querySelector('.tl-data').textContent);
  var canvas = root.querySelector('.tl-canvas');
  var tip = root.querySelector('.tl-tip');
  var ctx = canvas.getContext('2d');
  var ROW = 16, GAP = 6, LABEL = 240, AXIS = 26, STRIDE = 7;
  var ev = data.ev, lanes = data.lanes, n = ev.length / STRIDE;

  // Per lane: its event numbers sorted by start, and its longest duration (how far before the
  // view a visible span may start).
  var laneEvents = lanes.map(function () { return []; });
  var laneMaxDur = lanes.map(function () { return 0; });
  for (var i = 0; i < n; i++) {
    var l = ev[i * STRIDE];
    laneEvents[l].push(i);
    laneMaxDur[l] = Math.max(laneMaxDur[l], ev[i * STRIDE + 3]);
  }
  laneEvents.forEach(function (list) {
    list.sort(function (a, b) { return ev[a * STRIDE + 2] - ev[b * STRIDE + 2]; });
  });
  var laneY = [], y = AXIS;
  lanes.forEach(function (lane) { laneY.push(y); y += lane.rows * ROW + GAP; });
  var height = y + 4;

  var total = Math.max(data.duration, 1e-3);
  var v0 = 0, v1 = total;

  function hue(s) {
    var h = 0;
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0;
    return Math.abs(h) % 360;
  }
  var catColor = data.cats.map(function (c) { return 'hsl(' + hue(c) + ',55%,62%)'; });
  var catDark = data.cats.map(function (c) { return 'hsl(' + hue(c) + ',60%,35%)'; });

  function fmt(us) {
    var a = Math.abs(us);
    if (a >= 1e6) return (us / 1e6).toFixed(3) + ' s';
    if (a >= 1e3) return (us / 1e3).toFixed(3) + ' ms';
    return us.toFixed(1) + ' µs';
  }
  function width() { return canvas.clientWidth || 800; }
  function xOf(t) { return LABEL + (t - v0) / (v1 - v0) * (width() - LABEL); }
  function tOf(x) { return v0 + (x - LABEL) / (width() - LABEL) * (v1 - v0); }

  // First event of `list` whose start is >= t.
  function lowerBound(list, t) {
    var lo = 0, hi = list.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (ev[list[mid] * STRIDE + 2] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function drawAxis(w) {
    var span = v1 - v0, raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * p; }).find(function (s) { return s >= raw; });
    ctx.fillStyle = '#5a6472';
    ctx.font = '11px system-ui, sans-serif';
    ctx.strokeStyle = '#e3e8ee';
    for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      var x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, AXIS - 6); ctx.lineTo(x, height); ctx.stroke();
      ctx.fillText(fmt(t), x + 3, AXIS - 10);
    }
  }

  var drawn = 0;
  function draw() {
    var began = window.performance.now();
    var dpr = window.devicePixelRatio || 1, w = width();
    canvas.style.height = height + 'px';
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, height);
    lanes.forEach(function (lane, li) {
      ctx.fillStyle = li % 2 ? '#f7f9fb' : '#ffffff';
      ctx.fillRect(0, laneY[li] - GAP / 2, w, lane.rows * ROW + GAP);
    });
    drawAxis(w);
    ctx.save();
    ctx.beginPath(); ctx.rect(LABEL, 0, w - LABEL, height); ctx.clip();
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    var lanesDrawn = 0;
    for (var li = 0; li < lanes.length; li++) {
      var list = laneEvents[li], lastPx = [];
      var k = lowerBound(list, v0 - laneMaxDur[li]);
      for (; k < list.length; k++) {
        var e = list[k] * STRIDE, start = ev[e + 2];
        if (start > v1) break;
        var dur = ev[e + 3], row = ev[e + 1], top = laneY[li] + row * ROW;
        var x0 = xOf(start);
        if (dur < 0) {  // an instant: a tick
          ctx.fillStyle = catDark[ev[e + 5]];
          ctx.fillRect(Math.round(x0) - 1, top + 1, 2, ROW - 2);
          continue;
        }
        var x1 = xOf(start + dur);
        if (x1 < LABEL) continue;
        var px = Math.floor(x0);
        if (x1 - x0 < 1) {
          if (lastPx[row] === px) continue;  // that pixel is painted already
          lastPx[row] = px;
        }
        ctx.fillStyle = catColor[ev[e + 5]];
        ctx.fillRect(x0, top + 1, Math.max(1, x1 - x0), ROW - 2);
        if (x1 - x0 > 40) {
          var left = Math.max(x0, LABEL) + 3;
          ctx.fillStyle = '#10151c';
          ctx.save();
          ctx.beginPath(); ctx.rect(left, top, Math.min(x1, w) - left - 2, ROW); ctx.clip();
          ctx.fillText(data.names[ev[e + 4]], left, top + ROW / 2);
          ctx.restore();
        }
      }
      lanesDrawn++;
    }
    ctx.restore();
    // The lane names, over the gutter.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, AXIS - 2, LABEL - 1, height);
    ctx.fillStyle = '#1d2430';
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    lanes.forEach(function (lane, li) {
      ctx.save();
      ctx.beginPath(); ctx.rect(0, laneY[li], LABEL - 8, ROW); ctx.clip();
      ctx.fillText(lane.name, 6, laneY[li] + ROW / 2);
      ctx.restore();
    });
    ctx.strokeStyle = '#cfd6df';
    ctx.beginPath(); ctx.moveTo(LABEL - 0.5, 0); ctx.lineTo(LABEL - 0.5, height); ctx.stroke();
    drawn = lanesDrawn;
    root.setAttribute('data-lanes-rendered', String(lanesDrawn));
    root.setAttribute('data-draw-ms', (window.performance.now() - began).toFixed(1));
    document.body.setAttribute('data-lanes-rendered', String(lanesDrawn));
  }

  var pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  }

  // The event under the pointer: the shortest one in that lane and row covering the time
  // (give or take 3 px).
  function hit(mx, my) {
    var li = -1;
    for (var k = 0; k < lanes.length; k++) {
      if (my >= laneY[k] && my < laneY[k] + lanes[k].rows * ROW) { li = k; break; }
    }
    if (li < 0 || mx < LABEL) return -1;
    var row = Math.floor((my - laneY[li]) / ROW), t = tOf(mx), tol = 3 * (v1 - v0) / (width() - LABEL);
    var list = laneEvents[li], best = -1, bestDur = Infinity;
    for (var j = lowerBound(list, t - tol - laneMaxDur[li]); j < list.length; j++) {
      var e = list[j] * STRIDE, start = ev[e + 2];
      if (start > t + tol) break;
      if (ev[e + 1] !== row) continue;
      var dur = Math.max(ev[e + 3], 0);
      if (start + dur >= t - tol && dur < bestDur) { best = list[j]; bestDur = dur; }
    }
    return best;
  }

  function describe(i) {
    var e = i * STRIDE, dur = ev[e + 3];
    var lines = [data.names[ev[e + 4]], 'category: ' + data.cats[ev[e + 5]],
                 'lane: ' + lanes[ev[e]].name, 'start: +' + fmt(ev[e + 2])];
    if (dur >= 0) lines.push('duration: ' + fmt(dur));
    if (ev[e + 6] >= 0) {
      var a = JSON.parse(data.args[ev[e + 6]]);
      Object.keys(a).forEach(function (key) {
        var v = a[key];
        if (typeof v === 'number' && /_ns$/.test(key)) v = fmt(v / 1000);
        lines.push(key + ': ' + v);
      });
    }
    return lines.join('\n');
  }

  var drag = null;
  canvas.addEventListener('mousedown', function (e) {
    drag = { x: e.clientX, v0: v0, v1: v1 };
    canvas.classList.add('tl-dragging');
  });
  window.addEventListener('mouseup', function () {
    drag = null;
    canvas.classList.remove('tl-dragging');
  });
  canvas.addEventListener('mousemove', function (e) {
    var r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
    if (drag) {
      var dt = (e.clientX - drag.x) / (width() - LABEL) * (drag.v1 - drag.v0);
      v0 = drag.v0 - dt; v1 = drag.v1 - dt;
      tip.hidden = true;
      redraw();
      return;
    }
    var i = hit(mx, my);
    if (i < 0) { tip.hidden = true; return; }
    tip.textContent = describe(i);
    tip.hidden = false;
    tip.style.left = Math.min(mx + 14, Math.max(0, width() - 470)) + 'px';
    tip.style.top = (my + 14) + 'px';
  });
  canvas.addEventListener('mouseleave', function () { tip.hidden = true; });
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect(), t = tOf(Math.max(LABEL, e.clientX - r.left));
    var f = Math.exp(e.deltaY * 0.0015), span = Math.max((v1 - v0) * f, 1e-3);
    var a = (t - v0) / (v1 - v0);
    v0 = t - a * span; v1 = v0 + span;
    redraw();
  }, { passive: false });
  canvas.addEventListener('dblclick', function () { v0 = 0; v1 = total; redraw(); });
  window.addEventListener('resize', redraw);
  draw();
})();
