// Staff console: a broadcast's page refreshes its counts in place while it
// is being sent (no build step, no framework). The page works without it.
(function () {
  'use strict';
  var box = document.getElementById('progress');
  if (!box || !window.fetch) return;
  var every = parseInt(box.getAttribute('data-every'), 10) || 1000;
  var timer = null;

  function finished() {
    var p = box.querySelector('.progress');
    return p && p.getAttribute('data-finished') === 'true';
  }

  function refresh() {
    if (document.visibilityState === 'hidden') return;
    fetch(box.getAttribute('data-live'), { headers: { 'X-Regbot-Poll': '1' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) { window.location.reload(); return null; }
        return res.ok ? res.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var before = box.querySelector('.progress');
        var state = before ? before.getAttribute('data-state') : '';
        box.innerHTML = html;
        box.setAttribute('data-refreshed', String(Date.now()));
        var after = box.querySelector('.progress');
        // A state change (done, paused elsewhere) changes the buttons too.
        if (after && state && after.getAttribute('data-state') !== state) window.location.reload();
        if (finished() && timer) { window.clearInterval(timer); timer = null; }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  if (!finished()) timer = window.setInterval(refresh, every);
})();
