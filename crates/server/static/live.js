// tocsin's dashboard, live: while the page is visible, fetch it again every few seconds
// and swap in the fresh content of the regions marked `data-live` (read-only parts: no
// form in them loses what was typed). The fetched page is parsed inert (DOMParser runs
// nothing) and the Content-Security-Policy allows no inline script. Without JavaScript
// the page still works; it just does not move until reloaded.
(function () {
  "use strict";
  var every = Number(document.body.getAttribute("data-refresh-ms")) || 15000;
  if (!document.querySelector("[data-live]")) {
    return;
  }
  function refresh() {
    if (document.visibilityState !== "visible") {
      return;
    }
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (region) {
          var replacement = fresh.getElementById(region.id);
          if (replacement) {
            region.replaceChildren.apply(region, Array.from(replacement.childNodes));
          }
        });
      })
      .catch(function () {
        // Offline or the service restarting: the next round tries again.
      });
  }
  window.setInterval(refresh, every);
})();
