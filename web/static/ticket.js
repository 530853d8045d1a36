// The ticket page refreshes itself until the ticket reaches a final state.
(function () {
  "use strict";
  const ticket = document.getElementById("ticket");
  if (!ticket || ticket.dataset.final === "true") { return; }
  let delay = 1000;
  async function check() {
    try {
      const response = await fetch(ticket.dataset.statusUrl, {
        credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (response.ok) {
        const body = await response.json();
        // Load the ticket's own page: a reload could send again a form that was refused here.
        if (body.state !== ticket.dataset.state) {
          window.location.assign(ticket.dataset.pageUrl);
          return;
        }
      }
    } catch (error) { /* offline for a moment: try again later */ }
    delay = Math.min(delay * 1.5, 10000);
    window.setTimeout(check, delay);
  }
  window.setTimeout(check, delay);
})();
