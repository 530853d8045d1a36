// Forms marked data-confirm="question" are sent only once the user says yes to the question,
// with confirmed=y: the server asks the question itself when a form comes without it (no script).
(function () {
  "use strict";
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
      if (!form.elements.namedItem("confirmed")) {
        const answer = document.createElement("input");
        Object.assign(answer, { type: "hidden", name: "confirmed", value: "y" });
        form.append(answer);
      }
    });
  }
})();
