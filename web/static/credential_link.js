// A one-time link carries its token after "#": browsers never send that part to a server, so
// it reaches no access log, proxy log or Referer. This posts it, which shows the password's
// state and a button; nothing is used up until the button is pressed.
(function () {
  "use strict";
  function post() {
    const form = document.getElementById("credential-link");
    const token = window.location.hash.slice(1);
    if (!form || !/^[A-Za-z0-9_-]+$/.test(token)) {
      return;
    }
    window.history.replaceState(null, "", window.location.pathname);
    form.elements.token.value = token;
    form.submit();
  }
  // A link opened again in a tab already at /credentials/open (after the language switch, or
  // a newer link) changes only the part after "#": the browser loads nothing, so post it here.
  window.addEventListener("hashchange", post);
  post();
})();
