// A one-time link carries its token after "#": browsers never send that part to a server, so
// it reaches no access log, proxy log or Referer. This posts it, which shows the password's
// state and a button; nothing is used up until the button is pressed.
(function () {
  "use strict";
  const form = document.getElementById("credential-link");
  const token = window.location.hash.slice(1);
  if (!form || !/^[A-Za-z0-9_-]+$/.test(token)) {
    return;
  }
  window.history.replaceState(null, "", window.location.pathname);
  form.elements.token.value = token;
  form.submit();
})();
