// Staff console: the inbox refreshes its list in place (no build step, no
// framework). Everything else works without this script.
(function () {
  'use strict';
  var box = document.getElementById('inbox');
  if (!box || !window.fetch) return;
  var every = parseInt(box.getAttribute('data-every'), 10) || 5000;
  var baseTitle = document.title;

  function codes() {
    var seen = {};
    box.querySelectorAll('[data-ticket]').forEach(function (el) { seen[el.getAttribute('data-ticket')] = true; });
    return seen;
  }

  function showCount() {
    var line = document.getElementById('waiting-count');
    var n = line ? parseInt(line.getAttribute('data-waiting'), 10) : 0;
    document.title = n > 0 ? '(' + n + ') ' + baseTitle : baseTitle;
  }

  // last is the list as the previous refresh got it. A list that has not
  // changed keeps its nodes: rewriting it would take the keyboard focus
  // from staff tabbing through it, have screen readers read the live
  // region again, and swap a link out from under a tap in progress.
  var last = null;

  function refresh() {
    if (document.visibilityState === 'hidden') return;
    var before = codes();
    fetch(box.getAttribute('data-live'), { headers: { 'X-Regbot-Poll': '1' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (res.status === 401) { window.location.reload(); return null; }
        return res.ok ? res.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        box.setAttribute('data-refreshed', String(Date.now()));
        if (html === last) return;
        last = html;
        box.innerHTML = html;
        box.querySelectorAll('[data-ticket]').forEach(function (el) {
          if (!before[el.getAttribute('data-ticket')]) el.classList.add('fresh');
        });
        showCount();
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  showCount();
  window.setInterval(refresh, every);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') refresh();
  });
})();
